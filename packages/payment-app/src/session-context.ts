import { amountsEqual, decodeNotify, type CheckoutOutcome, type Params } from '@alipay-payment-handler/protocol'
import { GatewayError } from '@alipay-payment-handler/gateway-client'
import { type Logger, HttpProblem } from '@alipay-payment-handler/server-runtime'
import { OPEN_STATUSES, type Session, type SessionStatus } from './session-store.js'
import type { SessionServiceDeps, SessionView } from './session-types.js'

/** Two hours: long enough for any real checkout, short enough that abandoned trades get closed. */
const DEFAULT_SESSION_TTL_MS = 2 * 3600_000
const DEFAULT_POLL_INTERVAL_MS = 5_000

/** What every use case of the session service shares: its dependencies and the steps they all take. */
export interface SessionContext {
  deps: SessionServiceDeps
  now: () => number
  ttl: number
  pollEvery: number
  newId: () => string
  log: Logger
  mustGet(id: string): Promise<Session>
  toView(s: Session): SessionView
  /** Writes a state change and wakes the long polls. */
  settle(id: string, status: SessionStatus, outcome?: CheckoutOutcome, tradeNo?: string): Promise<boolean>
  paidOutcome(session: Session, params: Params): CheckoutOutcome
  /** The poller's answer for a session whose trade is paid but whose signed set we may not have. */
  settlePaidFromStore(session: Session, tradeNo: string | undefined): Promise<void>
}

export const problem = (status: 400 | 403 | 404 | 409 | 410 | 502 | 503, code: string, detail: string, extras = {}) =>
  new HttpProblem(status, code, detail, extras)

export function gatewayProblem(error: unknown): HttpProblem {
  if (error instanceof GatewayError) {
    return error.retryable
      ? problem(503, 'gateway-unavailable', 'The gateway did not answer in time; try again.', {
          service: error.service,
        })
      : problem(502, 'gateway-error', 'The gateway gave an answer we cannot use.', {
          service: error.service,
          reason: error.code,
          ...(error.gatewayCode ? { gatewayCode: error.gatewayCode } : {}),
        })
  }
  throw error
}

/** Builds the shared context of the session service's use cases. */
export function createSessionContext(deps: SessionServiceDeps): SessionContext {
  const now = deps.now ?? Date.now
  const ttl = deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS
  const pollEvery = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
  const newId = deps.newId ?? (() => crypto.randomUUID())
  const log = deps.logger

  const mustGet = async (id: string): Promise<Session> => {
    const session = await deps.store.getSession(id)
    if (!session) throw problem(404, 'session-not-found', `No payment session ${id}.`)
    return session
  }
  const toView = (s: Session): SessionView =>
    s.outcome ? { sessionId: s.id, status: s.status, outcome: s.outcome } : { sessionId: s.id, status: s.status }

  const settle = async (
    id: string,
    status: SessionStatus,
    outcome?: CheckoutOutcome,
    tradeNo?: string,
  ): Promise<boolean> => {
    const applied = await deps.store.updateSession(
      id,
      { status, ...(outcome ? { outcome } : {}), ...(tradeNo ? { tradeNo } : {}), nextPollAt: null },
      OPEN_STATUSES,
    )
    if (applied) {
      log.info('session.settled', { sessionId: id, status })
      deps.events.changed(id)
    }
    return applied
  }

  function paidOutcome(session: Session, params: Params): CheckoutOutcome {
    return { kind: 'paid', details: deps.gateway(session.partner).paymentResponse(params, true) }
  }

  async function settlePaidFromStore(session: Session, tradeNo: string | undefined) {
    const notify = await deps.store.paidNotifyFor(session.partner, session.outTradeNo)
    const outcome = notify ? paidOutcome(session, decodeNotify(notify.body, notify.contentType).params) : undefined
    await settle(session.id, 'paid', outcome, tradeNo)
  }

  return { deps, now, ttl, pollEvery, newId, log, mustGet, toView, settle, paidOutcome, settlePaidFromStore }
}

export function safeEqualAmounts(a: string, b: string): boolean {
  try {
    return amountsEqual(a, b)
  } catch {
    return false
  }
}
