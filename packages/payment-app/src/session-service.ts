import {
  APP_PAY_SERVICE,
  PC_PAY_SERVICE,
  ProtocolError,
  ValidationError,
  WAP_PAY_SERVICE,
  amountsEqual,
  decodeForm,
  isPaidStatus,
  itBPayDeadline,
  parseItBPay,
  validatePaymentMethodData,
  verifyParams,
  type CheckoutOutcome,
  type SignType,
  type Params,
  type PaymentMethodSpecificData,
} from '@alipay-payment-handler/protocol'
import {
  GatewayError,
  mapiTrade,
  openapiTrade,
  tradeMismatch,
  type PayRequest,
  type PartnerRegistry,
  type TradeSnapshot,
} from '@alipay-payment-handler/gateway-client'
import { type Logger, HttpProblem } from '@alipay-payment-handler/server-runtime'
import type { SessionEvents } from './session-events.js'
import type { SessionGateway } from './session-gateway.js'
import { OPEN_STATUSES, type Session, type SessionStatus, type SessionStore } from './session-store.js'
import { minutesUntil } from './translate.js'

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

/** Two hours: long enough for any real checkout, short enough that abandoned trades get closed. */
const DEFAULT_SESSION_TTL_MS = 2 * 3600_000
const DEFAULT_POLL_INTERVAL_MS = 5_000

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

const problem = (status: 400 | 403 | 404 | 409 | 410 | 502 | 503, code: string, detail: string, extras = {}) =>
  new HttpProblem(status, code, detail, extras)

function gatewayProblem(error: unknown): HttpProblem {
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

/** Which field of a signed return is not this session's, in the order they are checked; none: undefined. */
function returnMismatch(params: Params, session: Session, gateway: SessionGateway): string | undefined {
  const trade = gateway.kind === 'openapi' ? openapiTrade(params) : mapiTrade(params)
  // A return without an amount (some openapi returns) proves nothing about it: the query does.
  const reason = tradeMismatch(
    { orderId: session.outTradeNo, amount: session.totalFee },
    { ...trade, amount: trade.amount ?? session.totalFee },
    session.request['seller_id'],
  )
  if (reason === 'ORDER_MISMATCH') return 'out_trade_no'
  if (gateway.foreignApp(params) !== undefined) return 'app_id'
  if (reason === 'AMOUNT_MISMATCH') return gateway.kind === 'openapi' ? 'total_amount' : 'total_fee'
  if (reason === 'SELLER_MISMATCH') return 'seller_id'
  return undefined
}

/**
 * Whether a trade the gateway answered for is this session's, paid in full: its order number, a
 * paid status and exactly the signed amount (the same check as the merchant's, gateway-client's
 * tradeMismatch, without a seller: the session's partner already fixed it).
 */
function paidForSession(trade: TradeSnapshot | undefined, session: Session): trade is TradeSnapshot {
  return (
    trade !== undefined &&
    isPaidStatus(trade.status) &&
    tradeMismatch({ orderId: session.outTradeNo, amount: session.totalFee }, trade, undefined) === undefined
  )
}

/** Creates the session service. */
export function createSessionService(deps: SessionServiceDeps): SessionService {
  const now = deps.now ?? Date.now
  const ttl = deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS
  const pollEvery = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
  const newId = deps.newId ?? (() => crypto.randomUUID())
  const log = deps.logger

  const mustGet = (id: string): Session => {
    const session = deps.store.getSession(id)
    if (!session) throw problem(404, 'session-not-found', `No payment session ${id}.`)
    return session
  }
  const toView = (s: Session): SessionView =>
    s.outcome ? { sessionId: s.id, status: s.status, outcome: s.outcome } : { sessionId: s.id, status: s.status }

  /** Writes a state change and wakes the long polls. */
  const settle = (id: string, status: SessionStatus, outcome?: CheckoutOutcome, tradeNo?: string): boolean => {
    const applied = deps.store.updateSession(
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

  function checkOrder(data: PaymentMethodSpecificData, input: CreateSessionInput) {
    if (data.service !== APP_PAY_SERVICE && data.service !== PC_PAY_SERVICE && data.service !== WAP_PAY_SERVICE) {
      throw problem(400, 'unsupported-service', `service "${data.service}" is not ${APP_PAY_SERVICE}.`)
    }
    for (const field of ['out_trade_no', 'subject', 'total_fee'] as const) {
      if (!data[field])
        throw problem(400, 'invalid-method-data', `"${field}" is required to pay on the web.`, { field })
    }
    if (input.total.currency !== 'CNY') {
      throw problem(400, 'currency-not-supported', `Alipay takes CNY only, not "${input.total.currency}".`)
    }
    let equal = false
    try {
      equal = amountsEqual(input.total.value, data.total_fee ?? '')
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error
      throw problem(400, 'amount-invalid', 'total.value must be a decimal string with at most 2 decimals.')
    }
    if (!equal) {
      throw problem(400, 'amount-mismatch', 'total.value does not equal the signed total_fee.', {
        totalValue: input.total.value,
        totalFee: data.total_fee,
      })
    }
  }

  async function create(input: CreateSessionInput): Promise<CreatedSession> {
    let data: PaymentMethodSpecificData
    try {
      data = validatePaymentMethodData(input.methodData)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      throw problem(400, 'invalid-method-data', `"${error.field}" ${error.reason}`, {
        field: error.field,
        issues: error.issues,
      })
    }
    const partner = deps.partners.get(data.partner)
    if (!partner) throw problem(403, 'unknown-partner', `Partner ${data.partner} is not served here.`)
    if (!partner.allowedOrigins.includes(input.merchantOrigin)) {
      throw problem(403, 'origin-not-allowed', `${input.merchantOrigin} may not take payments for this partner.`)
    }
    const signType = data.sign_type
    if (!(partner.merchantSignTypes as readonly string[]).includes(signType)) {
      throw problem(400, 'unsupported-sign-type', `No key is configured to verify sign_type ${signType}.`)
    }
    const verified = await verifyParams(data, { keys: deps.partners.merchantKeys(data.partner) })
    if (!verified.ok) {
      log.warn('session.bad-merchant-sign', { partner: data.partner, reason: verified.reason })
      throw problem(403, 'invalid-signature', `The merchant's sign does not verify (${verified.reason}).`, {
        reason: verified.reason,
      })
    }
    checkOrder(data, input)
    const outTradeNo = data.out_trade_no ?? ''
    if (data.seller_id && /^2088\d{12}$/.test(data.seller_id) && data.seller_id !== partner.sellerId) {
      throw problem(403, 'seller-mismatch', 'seller_id is not the seller configured for this partner.')
    }
    const createdAt = now()
    let expiresAt = createdAt + ttl
    let itBPay: string | undefined
    if (data.it_b_pay) {
      const parsed = parseItBPay(data.it_b_pay, { allowAbsolute: true })
      if (!parsed) throw problem(400, 'invalid-method-data', '"it_b_pay" is malformed.', { field: 'it_b_pay' })
      const deadline = itBPayDeadline(parsed, new Date(createdAt))
      if (parsed.kind === 'absolute') {
        itBPay = minutesUntil(deadline, new Date(createdAt))
        if (!itBPay) throw problem(410, 'order-expired', `The order expired at ${data.it_b_pay} (Beijing time).`)
      } else {
        itBPay = data.it_b_pay
      }
      expiresAt = deadline.getTime()
    }
    if (deps.store.findPaidSession(partner.partner, outTradeNo)) {
      throw problem(409, 'order-already-paid', `Order ${outTradeNo} is already paid.`)
    }
    const id = newId()
    const device = input.device ?? 'pc'
    const gateway = deps.gateway(partner.partner)
    // Each gateway notifies its own relay endpoint, which verifies with that gateway's rule.
    const request = await gateway.buildPayRequest(data, {
      device,
      sellerId: partner.sellerId,
      notifyUrl: `${deps.publicOrigin}/notify/${gateway.kind}`,
      returnUrl: `${deps.publicOrigin}/pay/return/${id}`,
      showUrl: `${input.merchantOrigin}/`,
      itBPay,
    })
    deps.store.insertSession({
      id,
      partner: partner.partner,
      paymentRequestId: input.paymentRequestId,
      merchantOrigin: input.merchantOrigin,
      outTradeNo,
      subject: data.subject ?? '',
      totalFee: data.total_fee ?? '',
      device,
      merchantNotifyUrl: data.notify_url,
      request: request.params,
      // The cashier URL leaves with this answer, so the session is at the cashier from here on.
      status: 'at_cashier',
      outcome: undefined,
      tradeNo: undefined,
      expiresAt,
      windowClosed: false,
      nextPollAt: undefined,
      createdAt,
    })
    log.info('session.created', { sessionId: id, partner: partner.partner, outTradeNo, device })
    return {
      sessionId: id,
      status: 'at_cashier',
      cashierUrl: request.url,
      form: request.form,
      expiresAt: new Date(expiresAt).toISOString(),
      merchantOrigin: input.merchantOrigin,
      subject: data.subject ?? '',
      totalFee: data.total_fee ?? '',
    }
  }

  function paidOutcome(session: Session, params: Params): CheckoutOutcome {
    return { kind: 'paid', details: deps.gateway(session.partner).paymentResponse(params, true) }
  }

  /** The poller's answer for a session whose trade is paid but whose signed set we may not have. */
  function settlePaidFromStore(session: Session, tradeNo: string | undefined) {
    const notify = deps.store.paidNotifyFor(session.partner, session.outTradeNo)
    const outcome = notify ? paidOutcome(session, decodeForm(notify.body)) : undefined
    settle(session.id, 'paid', outcome, tradeNo)
  }

  async function handleReturn(id: string, query: string): Promise<SessionView> {
    const session = mustGet(id)
    if (session.status === 'paid' && session.outcome) return toView(session)
    let params: Params
    try {
      params = decodeForm(query)
    } catch {
      throw problem(400, 'malformed-return', 'The return query string does not decode.')
    }
    const gateway = deps.gateway(session.partner)
    const signType = session.request['sign_type'] as SignType | undefined
    const verified = await gateway.verifySigned(params, signType)
    if (!verified.ok) {
      log.warn('return.bad-signature', { sessionId: id, reason: verified.reason })
      throw problem(400, 'invalid-signature', `The return's signature does not verify (${verified.reason}).`, {
        reason: verified.reason,
      })
    }
    const mismatch = returnMismatch(params, session, gateway)
    if (mismatch) {
      log.error('return.mismatch', { sessionId: id, field: mismatch })
      throw problem(400, 'return-mismatch', `The return's ${mismatch} is not this session's.`, { field: mismatch })
    }
    if (!OPEN_STATUSES.includes(session.status)) return toView(session)
    if (gateway.kind === 'openapi') return openapiReturn(session, params, gateway)
    const claimsPaid = isPaidStatus(params['trade_status'])
    let notifyAnswer: string | undefined
    try {
      notifyAnswer = await gateway.notifyVerify(params['notify_id'] ?? '')
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error
      log.warn('return.notify-verify-failed', { sessionId: id, reason: error.code })
    }
    let confirmed = claimsPaid && notifyAnswer === 'true'
    if (!confirmed) {
      // In doubt (expired notify_id, gateway hiccup, or a return that is not "paid"): ask the gateway.
      let result
      try {
        result = await gateway.singleTradeQuery({ tradeNo: params['trade_no'], outTradeNo: session.outTradeNo })
      } catch (error) {
        throw gatewayProblem(error)
      }
      const trade = result.found ? result.trade : undefined
      const queryPaid = paidForSession(trade, session)
      if (queryPaid && claimsPaid) confirmed = true
      else if (claimsPaid) {
        log.error('return.not-confirmed', {
          sessionId: id,
          notifyVerify: notifyAnswer,
          tradeStatus: trade?.status,
        })
        throw problem(409, 'return-not-confirmed', 'The return says paid, but the gateway does not confirm it.')
      } else if (trade?.status === 'TRADE_CLOSED') {
        settle(id, 'failed', { kind: 'cancelled', reason: 'closed' })
      }
      // Return not paid but query paid: the two disagree, so neither is merged; the notify settles it.
    }
    if (confirmed) {
      if (!settle(id, 'paid', paidOutcome(session, params), params['trade_no'])) {
        log.info('return.already-settled', { sessionId: id })
      }
    }
    return toView(mustGet(id))
  }

  /**
   * An openapi return has no trade_status (openapi §7): it proves who paid what if anything, never
   * that the money arrived. `alipay.trade.query` decides; the response is then the stored notify
   * when it came first (it signs trade_status), else the return itself (docs/decisions/0003).
   */
  async function openapiReturn(session: Session, params: Params, gateway: SessionGateway): Promise<SessionView> {
    let result
    try {
      result = await gateway.singleTradeQuery({ tradeNo: params['trade_no'], outTradeNo: session.outTradeNo })
    } catch (error) {
      throw gatewayProblem(error)
    }
    const trade = result.found ? result.trade : undefined
    if (paidForSession(trade, session)) {
      const notify = deps.store.paidNotifyFor(session.partner, session.outTradeNo)
      const signed = notify ? decodeForm(notify.body) : params
      if (!settle(session.id, 'paid', paidOutcome(session, signed), trade?.tradeNo ?? params['trade_no'])) {
        log.info('return.already-settled', { sessionId: session.id })
      }
    } else if (trade?.['trade_status'] === 'TRADE_CLOSED') {
      settle(session.id, 'failed', { kind: 'cancelled', reason: 'closed' })
    } else {
      // Back from the cashier but not paid (yet): the notify or the poller settles it.
      log.info('return.not-paid-yet', { sessionId: session.id, tradeStatus: trade?.['trade_status'] })
      deps.store.updateSession(session.id, { nextPollAt: now() }, OPEN_STATUSES)
    }
    return toView(mustGet(session.id))
  }

  async function cancel(id: string, reason: CancelReason): Promise<SessionView> {
    const session = mustGet(id)
    if (!OPEN_STATUSES.includes(session.status)) return toView(session)
    if (reason === 'window-closed') {
      // The buyer may have paid a moment before closing: let the poller find out, every 5 s.
      deps.store.updateSession(id, { windowClosed: true, nextPollAt: now() }, OPEN_STATUSES)
      return toView(mustGet(id))
    }
    const gateway = deps.gateway(session.partner)
    try {
      const closed = await gateway.closeTrade({ tradeNo: session.tradeNo, outTradeNo: session.outTradeNo })
      if (closed.closed || closed.error === 'TRADE_NOT_EXIST') {
        const status = reason === 'aborted' ? 'aborted' : 'cancelled'
        settle(id, status, { kind: 'cancelled', reason: 'buyer' })
      } else {
        // Not closable: most likely paid meanwhile. The poller settles it from the gateway.
        log.info('session.cancel-refused', { sessionId: id, gatewayCode: closed.error })
        deps.store.updateSession(id, { windowClosed: true, nextPollAt: now() }, OPEN_STATUSES)
      }
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error
      log.warn('session.cancel-deferred', { sessionId: id, reason: error.code })
      deps.store.updateSession(id, { windowClosed: true, nextPollAt: now() + pollEvery }, OPEN_STATUSES)
    }
    return toView(mustGet(id))
  }

  async function pollSession(session: Session): Promise<void> {
    const gateway = deps.gateway(session.partner)
    const t = now()
    const again = () => deps.store.updateSession(session.id, { nextPollAt: t + pollEvery }, OPEN_STATUSES)
    try {
      const result = await gateway.singleTradeQuery({ tradeNo: session.tradeNo, outTradeNo: session.outTradeNo })
      const trade = result.found ? result.trade : undefined
      const status = trade?.status
      if (trade && isPaidStatus(status)) {
        if (!safeEqualAmounts(trade.amount ?? '', session.totalFee)) {
          log.error('poll.amount-mismatch', { sessionId: session.id })
          settle(session.id, 'failed', { kind: 'failed', code: 'amount-mismatch', message: 'paid amount differs' })
          return
        }
        settlePaidFromStore(session, trade.tradeNo)
        return
      }
      const expired = t >= session.expiresAt
      if (status === 'TRADE_CLOSED') {
        settle(session.id, expired ? 'expired' : 'cancelled', {
          kind: 'cancelled',
          reason: expired ? 'expired' : 'closed',
        })
        return
      }
      if (expired) {
        if (trade) {
          const closed = await gateway.closeTrade({ tradeNo: trade.tradeNo, outTradeNo: session.outTradeNo })
          if (!closed.closed && closed.error !== 'TRADE_NOT_EXIST') {
            log.info('poll.close-refused', { sessionId: session.id, gatewayCode: closed.error })
            again()
            return
          }
        }
        settle(session.id, 'expired', { kind: 'cancelled', reason: 'expired' })
        return
      }
      if (!trade && session.windowClosed) {
        // The window closed before the cashier made a trade: nothing can be paid any more.
        settle(session.id, 'cancelled', { kind: 'cancelled', reason: 'closed' })
        return
      }
      again()
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error
      log.warn('poll.gateway-failed', { sessionId: session.id, reason: error.code })
      again()
    }
  }

  return {
    create,
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
    handleReturn,
    cancel,
    cashierRequest(id) {
      const session = mustGet(id)
      if (!OPEN_STATUSES.includes(session.status)) {
        throw problem(409, 'session-closed', `Session ${id} is ${session.status}; start a new payment.`)
      }
      return { gatewayUrl: deps.gateway(session.partner).gatewayUrl, fields: session.request }
    },
    async pollOnce() {
      const due = deps.store.dueForPoll(now(), 20)
      for (const session of due) await pollSession(session)
      return due.length
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

function safeEqualAmounts(a: string, b: string): boolean {
  try {
    return amountsEqual(a, b)
  } catch {
    return false
  }
}
