// The session service's types: its dependencies, its API and what it answers.
import { type CheckoutOutcome, type Params } from '@alipay-payment-handler/protocol'
import { type PayRequest, type PartnerRegistry } from '@alipay-payment-handler/gateway-client'
import { type Logger } from '@alipay-payment-handler/server-runtime'
import type { SessionEvents } from './session-events.js'
import type { SessionGateway } from './session-gateway.js'
import {
  type NotifySettlement,
  type Session,
  type SessionStatus,
  type SessionStore,
  type SettledBy,
} from './session-store.js'

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
  /**
   * A long poll also re-reads the session this often (ms), for changes made by other processes on a
   * shared store; unset, only this process's own changes wake it.
   */
  recheckMs?: number
}

/** The payment sessions: create, return landing, status, cancel, and the poller's step. */
export interface SessionService {
  create(input: CreateSessionInput): Promise<CreatedSession>
  view(id: string): Promise<SessionView>
  /** Long poll: answers when the status differs from `known` (default: the current one) or after `waitMs`. */
  waitView(id: string, waitMs: number, known?: string, signal?: AbortSignal): Promise<SessionView>
  handleReturn(id: string, query: string): Promise<SessionView>
  cancel(id: string, reason: CancelReason): Promise<SessionView>
  /** The signed pay request of an open session and the gateway it goes to, to render its cashier form. */
  cashierRequest(id: string): Promise<{ gatewayUrl: string; fields: Params }>
  /** One round of the background poller; returns how many sessions it looked at. */
  pollOnce(): Promise<number>
  /**
   * What a verified paying notify does to its session (the relay stores it in the notify's own
   * transaction), or undefined when it pays nothing or another amount.
   */
  notifySettlement(session: Session, params: Params): NotifySettlement | undefined
  /** After the notify's transaction committed: tells the long polls, as `settle` does. */
  announceSettled(sessionId: string, settled: SettledBy): void
}
