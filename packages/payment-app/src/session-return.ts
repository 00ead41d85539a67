import { decodeForm, decodeNotify, isPaidStatus, type Params } from '@alipay-payment-handler/protocol'
import {
  GatewayError,
  mapiTrade,
  openapiTrade,
  tradeMismatch,
  type TradeSnapshot,
} from '@alipay-payment-handler/gateway-client'
import type { SessionGateway } from './session-gateway.js'
import { OPEN_STATUSES, type Session } from './session-store.js'
import { gatewayProblem, problem, type SessionContext } from './session-context.js'
import type { SessionService, SessionView } from './session-types.js'

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

/** The return landing: verify the gateway-signed return, match it to its session, confirm with the gateway. */
export function returnUseCase(ctx: SessionContext): Pick<SessionService, 'handleReturn'> {
  const { deps, now, log, mustGet, toView, settle, paidOutcome } = ctx

  async function handleReturn(id: string, query: string): Promise<SessionView> {
    const session = await mustGet(id)
    if (session.status === 'paid' && session.outcome) return toView(session)
    let params: Params
    try {
      params = decodeForm(query)
    } catch {
      throw problem(400, 'malformed-return', 'The return query string does not decode.')
    }
    const gateway = deps.gateway(session.partner)
    const verified = await gateway.verifySigned(params)
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
        await settle(id, 'failed', { kind: 'cancelled', reason: 'closed' })
      }
      // Return not paid but query paid: the two disagree, so neither is merged; the notify settles it.
    }
    if (confirmed) {
      if (!(await settle(id, 'paid', paidOutcome(session, params), params['trade_no']))) {
        log.info('return.already-settled', { sessionId: id })
      }
    }
    return toView(await mustGet(id))
  }

  /**
   * An openapi return has no trade_status (openapi-protocol §7): it proves who paid what if anything, never
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
      const notify = await deps.store.paidNotifyFor(session.partner, session.outTradeNo)
      const signed = notify ? decodeNotify(notify.body, notify.contentType).params : params
      if (!(await settle(session.id, 'paid', paidOutcome(session, signed), trade?.tradeNo ?? params['trade_no']))) {
        log.info('return.already-settled', { sessionId: session.id })
      }
    } else if (trade?.['trade_status'] === 'TRADE_CLOSED') {
      await settle(session.id, 'failed', { kind: 'cancelled', reason: 'closed' })
    } else {
      // Back from the cashier but not paid (yet): the notify or the poller settles it.
      log.info('return.not-paid-yet', { sessionId: session.id, tradeStatus: trade?.['trade_status'] })
      await deps.store.updateSession(session.id, { nextPollAt: now() }, OPEN_STATUSES)
    }
    return toView(await mustGet(session.id))
  }

  return { handleReturn }
}
