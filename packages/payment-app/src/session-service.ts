import { isPaidStatus, type CheckoutOutcome, type Params } from '@alipay-payment-handler/protocol'
import { type PayRequest, type PartnerRegistry } from '@alipay-payment-handler/gateway-client'
import { type Logger } from '@alipay-payment-handler/server-runtime'
import type { SessionEvents } from './session-events.js'
import type { SessionGateway } from './session-gateway.js'
import { OPEN_STATUSES, type Session, type SessionStatus, type SessionStore } from './session-store.js'
import { createSessionContext, problem, safeEqualAmounts } from './session-context.js'
import { cancelUseCase } from './session-cancel.js'
import { createUseCase } from './session-create.js'
import { pollUseCase } from './session-poll.js'
import { returnUseCase } from './session-return.js'

/** The body of `POST /api/sessions` (a CheckoutRequest plus the device). */
export interface CreateSessionInput {
  paymentRequestId: string
  merchantOrigin: string
  methodData: Record<string, string>
  total: { currency: string; value: string }
  device?: 'pc' | 'wap' | undefined
}

/** The answer of `POST /api/sessions`. */
export interface CreatedSession {
  sessionId: string
  status: SessionStatus
  cashierUrl: string
  form: PayRequest['form']
  expiresAt: string
  merchantOrigin: string
  subject: string
  totalFee: string
}

/** What status readers see. */
export interface SessionView {
  sessionId: string
  status: SessionStatus
  outcome?: CheckoutOutcome
}

/** Why the window stops: the buyer cancelled, the worker aborted, or the window just closed. */
export type CancelReason = 'buyer' | 'aborted' | 'window-closed'

export interface SessionServiceDeps {
  store: SessionStore
  partners: PartnerRegistry
  /** The partner's gateway, mapi or openapi (see session-gateway.ts). */
  gateway: (partner: string) => SessionGateway
  /** The payment app's origin, e.g. `http://localhost:4200`: return_url and notify_url live there. */
  publicOrigin: string
  events: SessionEvents
  logger: Logger
  now?: () => number
  /** How long a session without `it_b_pay` stays payable before the server closes it. */
  sessionTtlMs?: number
  /** Gap between two `single_trade_query` polls of one session (5 s, as the architecture asks). */
  pollIntervalMs?: number
  newId?: () => string
}

/** The payment sessions: create, return landing, status, cancel, and the poller's step. */
export interface SessionService {
  create(input: CreateSessionInput): Promise<CreatedSession>
  view(id: string): SessionView
  /** Long poll: answers when the status differs from `known` (default: the current one) or after `waitMs`. */
  waitView(id: string, waitMs: number, known?: string, signal?: AbortSignal): Promise<SessionView>
  handleReturn(id: string, query: string): Promise<SessionView>
  cancel(id: string, reason: CancelReason): Promise<SessionView>
  /** The signed pay request of an open session and the gateway it goes to, to render its cashier form. */
  cashierRequest(id: string): { gatewayUrl: string; fields: Params }
  /** One round of the background poller; returns how many sessions it looked at. */
  pollOnce(): Promise<number>
  /** Settles a session from a verified gateway notify (called by the relay inside its transaction). */
  applyNotify(session: Session, params: Params): boolean
}

/**
 * Creates the session service: one module per use case (session-create, session-return,
 * session-cancel, session-poll) on one shared context (session-context).
 */
export function createSessionService(deps: SessionServiceDeps): SessionService {
  const ctx = createSessionContext(deps)
  const { mustGet, toView, settle, paidOutcome } = ctx
  return {
    ...createUseCase(ctx),
    ...returnUseCase(ctx),
    ...cancelUseCase(ctx),
    ...pollUseCase(ctx),
    view: (id) => toView(mustGet(id)),
    async waitView(id, waitMs, known, signal) {
      const start = mustGet(id)
      const baseline = known ?? start.status
      if (start.status !== baseline || waitMs <= 0) return toView(start)
      const deadline = Date.now() + waitMs
      for (;;) {
        const left = deadline - Date.now()
        if (left <= 0 || signal?.aborted) break
        await deps.events.waitForChange(id, left, signal)
        const current = mustGet(id)
        if (current.status !== baseline) return toView(current)
      }
      return toView(mustGet(id))
    },
    cashierRequest(id) {
      const session = mustGet(id)
      if (!OPEN_STATUSES.includes(session.status)) {
        throw problem(409, 'session-closed', `Session ${id} is ${session.status}; start a new payment.`)
      }
      return { gatewayUrl: deps.gateway(session.partner).gatewayUrl, fields: session.request }
    },
    applyNotify(session, params) {
      if (!isPaidStatus(params['trade_status'])) return false
      const gateway = deps.gateway(session.partner)
      if (!safeEqualAmounts(gateway.amountOf(params) ?? '', session.totalFee)) return false
      const outcome = paidOutcome(session, params)
      if (settle(session.id, 'paid', outcome, params['trade_no'])) return true
      // Paid by the poller before its notify arrived: fill in the signed set now.
      const current = deps.store.getSession(session.id)
      if (current?.status === 'paid' && !current.outcome) {
        deps.store.updateSession(session.id, { outcome })
        deps.events.changed(session.id)
        return true
      }
      return false
    },
  }
}
