import { verifyString, type KeyRing, type SignType, type VerifyResult } from './sign.js'
import { stringToSign } from './string-to-sign.js'
import type { GatewayReply } from './xml.js'

/**
 * Verifies a `single_trade_query` reply: the `<sign>` covers the `<trade>` children with the
 * usual rule (mapi-protocol §8, observed in two clients).
 */
export function verifyTradeReply(reply: GatewayReply, keys: KeyRing, charset = 'utf-8'): Promise<VerifyResult> {
  if (!reply.trade)
    return Promise.resolve({ ok: false, reason: 'missing-sign', message: 'reply has no <trade> to verify' })
  return verifyString(stringToSign(reply.trade), reply.sign ?? '', (reply.signType ?? 'MD5') as SignType, keys, charset)
}
