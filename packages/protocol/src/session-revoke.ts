import type { Params } from './form.js'
import { missingFields } from './message-shapes.js'
import { OUT_TRADE_NO } from './rules.js'
import { formatBeijingTime, parseBeijingTime } from './time.js'

/**
 * The merchant → payment app message that revokes the payment sessions of a cancelled order. It is
 * no gateway service: the name only has to differ from every service the gateway and the payment
 * app sign, so that the signed set is never taken for method data, a pay request or a notify.
 */
export const SESSION_REVOKE_SERVICE = 'payment_handler.sessions.revoke'

/** How far a revoke's `timestamp` may be from the receiver's clock (either way) before it is refused. */
export const SESSION_REVOKE_MAX_SKEW_MS = 10 * 60_000

/** The unsigned revoke of the sessions of (`partner`, `outTradeNo`), stamped at `now`. */
export function sessionRevokeParams(partner: string, outTradeNo: string, now: Date): Params {
  return {
    service: SESSION_REVOKE_SERVICE,
    partner,
    _input_charset: 'utf-8',
    out_trade_no: outTradeNo,
    timestamp: formatBeijingTime(now),
  }
}

/** What a receiver learns from a revoke's shape (the signature is checked separately, on the same map). */
export type SessionRevokeShape =
  | { ok: true; partner: string; outTradeNo: string }
  | { ok: false; reason: 'malformed-revoke' | 'stale-revoke'; detail: string }

/**
 * Checks a revoke's shape and freshness before its signature: the service, the fields, an order
 * number of the grammar and a timestamp within SESSION_REVOKE_MAX_SKEW_MS of `now`.
 */
export function checkSessionRevoke(params: Readonly<Params>, now: Date): SessionRevokeShape {
  const missing = missingFields(params, 'session-revoke')
  if (missing.length > 0) return { ok: false, reason: 'malformed-revoke', detail: `no ${missing.join(', ')}` }
  if (params['service'] !== SESSION_REVOKE_SERVICE) {
    return { ok: false, reason: 'malformed-revoke', detail: `service is not ${SESSION_REVOKE_SERVICE}` }
  }
  const outTradeNo = params['out_trade_no'] ?? ''
  if (!OUT_TRADE_NO.test(outTradeNo)) return { ok: false, reason: 'malformed-revoke', detail: 'bad out_trade_no' }
  const stamped = parseBeijingTime(params['timestamp'] ?? '')
  if (!stamped) return { ok: false, reason: 'malformed-revoke', detail: 'bad timestamp' }
  if (Math.abs(stamped.getTime() - now.getTime()) > SESSION_REVOKE_MAX_SKEW_MS) {
    return { ok: false, reason: 'stale-revoke', detail: 'timestamp too far from now' }
  }
  return { ok: true, partner: params['partner'] ?? '', outTradeNo }
}
