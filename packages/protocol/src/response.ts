import type { Params } from './form.js'
import { isPaidStatus } from './mapi.js'
import { verifyOpenapiNotify } from './openapi.js'
import { verifyParams, type KeyRing, type SignType, type VerifyResult } from './sign.js'
import type { AlipayPaymentResponse } from './types.js'

/** `success` is added by the payment app and is outside the gateway's signature (mapi-protocol §15). */
export const RESPONSE_UNSIGNED_KEYS: readonly string[] = ['success']

/**
 * The members an openapi response carries outside the gateway's signature (docs/decisions/0003):
 * `success` (the payment app's verdict), `gateway` (the marker `"openapi"`) and `total_fee`, the
 * dictionary's name for the signed `total_amount`, which it must mirror exactly. Nothing else may
 * be added: any other member is part of the signed set and breaks the signature.
 */
export const OPENAPI_RESPONSE_UNSIGNED_KEYS: readonly string[] = ['success', 'gateway', 'total_fee']

/** The value of the `gateway` marker on openapi responses. */
export const OPENAPI_RESPONSE_MARKER = 'openapi'

/**
 * Builds the AlipayPaymentResponse from ONE gateway-signed parameter set, copied verbatim, plus
 * `success`: "true" only when the set verified and the trade is paid. Never merges a second source.
 */
export function buildPaymentResponse(signed: Readonly<Params>, verified: boolean): AlipayPaymentResponse {
  const success = verified && isPaidStatus(signed['trade_status']) ? 'true' : 'false'
  return { ...signed, success } as AlipayPaymentResponse
}

/**
 * Builds the AlipayPaymentResponse of an openapi payment from ONE gateway-signed set (the
 * notification, or the return), verbatim, plus the three unsigned members. `paid` is the payment
 * app's verdict: a notification must also say TRADE_SUCCESS/TRADE_FINISHED itself; a return has no
 * `trade_status`, so `paid` there comes from a verified `alipay.trade.query` (openapi-protocol §7).
 */
export function buildOpenapiPaymentResponse(signed: Readonly<Params>, paid: boolean): AlipayPaymentResponse {
  const status = signed['trade_status']
  const success = paid && (status === undefined || isPaidStatus(status)) ? 'true' : 'false'
  const response: Params = { ...signed, gateway: OPENAPI_RESPONSE_MARKER, success }
  if (signed['total_amount'] !== undefined) response['total_fee'] = signed['total_amount']
  // A return-built response lacks notify_id/notify_time/notify_type: openapi returns have none (openapi-protocol §7).
  return response as AlipayPaymentResponse
}

/** An openapi response: the marker, or (marker lost) openapi's own `app_id`, which mapi never sends. */
export function isOpenapiResponse(details: Readonly<Record<string, unknown>>): boolean {
  return details['gateway'] === OPENAPI_RESPONSE_MARKER || typeof details['app_id'] === 'string'
}

/**
 * Verifies a PaymentResponse's details with the gateway key, whichever gateway signed them:
 * mapi (MD5 key or Alipay public key; `success` left out) or openapi (Alipay public key, the
 * notification rule; `success`, `gateway` and `total_fee` left out, and `total_fee` must equal
 * the signed `total_amount`). Never throws on a bad signature.
 */
export async function verifyPaymentResponse(
  details: Readonly<Record<string, unknown>>,
  keys: KeyRing,
  options: { signType?: SignType } = {},
): Promise<VerifyResult> {
  const params: Record<string, string> = {}
  for (const [key, value] of Object.entries(details)) if (typeof value === 'string') params[key] = value
  if (!isOpenapiResponse(details)) {
    return verifyParams(params, {
      keys,
      alsoExclude: RESPONSE_UNSIGNED_KEYS,
      ...(options.signType ? { signType: options.signType } : {}),
    })
  }
  if (!keys.publicKey) {
    return { ok: false, reason: 'no-key', message: 'an openapi response needs the Alipay public key' }
  }
  const signed: Record<string, string> = {}
  for (const [key, value] of Object.entries(params)) {
    if (!OPENAPI_RESPONSE_UNSIGNED_KEYS.includes(key)) signed[key] = value
  }
  // The mirror is unsigned, so it must repeat the signed amount exactly, or a reader of total_fee is fooled.
  if (params['total_fee'] !== undefined && params['total_fee'] !== signed['total_amount']) {
    return { ok: false, reason: 'mirror-mismatch', message: 'total_fee does not mirror the signed total_amount' }
  }
  const pinned = options.signType === 'RSA' || options.signType === 'RSA2' ? { signType: options.signType } : {}
  return verifyOpenapiNotify(signed, keys.publicKey, pinned)
}
