import type { Params } from './form'
import { isPaidStatus } from './mapi'
import { verifyParams, type KeyRing, type VerifyResult } from './sign'
import type { AlipayPaymentResponse } from './types'

/** `success` is added by the payment app and is outside the gateway's signature (mapi §15). */
export const RESPONSE_UNSIGNED_KEYS: readonly string[] = ['success']

/**
 * Builds the AlipayPaymentResponse from ONE gateway-signed parameter set, copied verbatim, plus
 * `success`: "true" only when the set verified and the trade is paid. Never merges a second source.
 */
export function buildPaymentResponse(signed: Readonly<Params>, verified: boolean): AlipayPaymentResponse {
  const success = verified && isPaidStatus(signed['trade_status']) ? 'true' : 'false'
  return { ...signed, success } as AlipayPaymentResponse
}

/** Verifies a PaymentResponse's details with the gateway key (MD5 key or Alipay public key). */
export function verifyPaymentResponse(
  details: Readonly<Record<string, unknown>>,
  keys: KeyRing,
): Promise<VerifyResult> {
  const params: Record<string, string> = {}
  for (const [key, value] of Object.entries(details)) if (typeof value === 'string') params[key] = value
  return verifyParams(params, { keys, alsoExclude: RESPONSE_UNSIGNED_KEYS })
}
