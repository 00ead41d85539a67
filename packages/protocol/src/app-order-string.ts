import { ProtocolError } from './errors.js'
import { decodeForm, encodeForm, type Params } from './form.js'
import { signOpenapiRequest, verifyOpenapiRequest } from './openapi.js'
import { signString, verifyString, type VerifyResult } from './sign.js'

/**
 * The two order strings a merchant server signs for Alipay's native app SDK (the app passes them
 * to the Alipay app unchanged):
 * - openapi `alipay.trade.app.pay`: the request's parameters signed by the request rule
 *   (openapi-protocol §3.2, openapi-protocol §14.3) and form-encoded, exactly what the gateway would get as a query;
 * - mapi `mobile.securitypay.pay`: its own rule (mapi-protocol §4.8): insertion order, every value
 *   in double quotes, SHA1withRSA, then `&sign="<URL-encoded base64>"&sign_type="RSA"`.
 */

/** Signs an `alipay.trade.app.pay` parameter set and form-encodes it: the openapi APP order string. */
export async function buildOpenapiAppOrderString(params: Params, privateKey: string): Promise<string> {
  const signed = await signOpenapiRequest(params, privateKey)
  return encodeForm(signed, signed['charset'] ?? 'utf-8')
}

/** Decodes an openapi APP order string and verifies it with the app's public key. */
export async function verifyOpenapiAppOrderString(
  orderString: string,
  publicKey: string,
): Promise<{ params: Params; verified: VerifyResult }> {
  const charset = /(?:^|&)charset=([^&]*)/i.exec(orderString)?.[1] ?? 'utf-8'
  const params = decodeForm(orderString, decodeURIComponent(charset))
  return { params, verified: await verifyOpenapiRequest(params, publicKey) }
}

/** Whether a string looks like the mapi APP rule (`key="value"&…`) rather than a form-encoded one. */
export function isSecuritypayOrderString(text: string): boolean {
  return /^[A-Za-z_]+="/.test(text)
}

/** The unsigned part of a `mobile.securitypay.pay` order string: `key="value"` pairs in the given order. */
export function securitypayString(params: Params): string {
  return Object.entries(params)
    .map(([key, value]) => {
      // A quote inside a value would end it early: the rule has no escaping, so refuse it.
      if (value.includes('"')) throw new ProtocolError('FIELD_FORMAT', `${key} must not contain a double quote`)
      return `${key}="${value}"`
    })
    .join('&')
}

/**
 * Builds a signed `mobile.securitypay.pay` order string (mapi-protocol §4.8). `params` keeps its
 * insertion order; `sign` and `sign_type` must not be in it. RSA (SHA1withRSA) is the only type.
 *
 * `{ partner: "2088…", out_trade_no: "A1" }` → `partner="2088…"&out_trade_no="A1"&sign="…"&sign_type="RSA"`
 */
export async function buildSecuritypayOrderString(params: Params, privateKey: string): Promise<string> {
  if ('sign' in params || 'sign_type' in params)
    throw new ProtocolError('FIELD_FORMAT', 'sign and sign_type are appended by the builder')
  const unsigned = securitypayString(params)
  const sign = await signString(unsigned, 'RSA', { privateKey }, params['_input_charset'] ?? 'utf-8')
  return `${unsigned}&sign="${encodeURIComponent(sign)}"&sign_type="RSA"`
}

/** A parsed `mobile.securitypay.pay` order string: its pairs in order and the exact text that was signed. */
export interface ParsedSecuritypayOrder {
  params: Params
  signedText: string
  sign: string
  signType: string
}

/** Splits a `mobile.securitypay.pay` order string; undefined if it does not follow the rule. */
export function parseSecuritypayOrderString(text: string): ParsedSecuritypayOrder | undefined {
  const pair = /([A-Za-z0-9_]+)="([^"]*)"(&|$)/y
  const params: Params = {}
  let signAt = -1
  let index = 0
  while (index < text.length) {
    pair.lastIndex = index
    const match = pair.exec(text)
    if (!match) return undefined
    const [, key, value] = match as unknown as [string, string, string]
    if (key === 'sign' && signAt === -1) signAt = index
    if (Object.hasOwn(params, key)) return undefined
    params[key] = value
    index = pair.lastIndex
    if (match[3] === '' && index < text.length) return undefined
  }
  if (signAt <= 0 || params['sign'] === undefined) return undefined
  const { sign, sign_type: signType = '', ...rest } = params
  let decoded: string
  try {
    decoded = decodeURIComponent(sign)
  } catch {
    return undefined
  }
  return { params: rest, signedText: text.slice(0, signAt - 1), sign: decoded, signType }
}

/** Verifies a `mobile.securitypay.pay` order string with the partner's RSA public key. */
export async function verifySecuritypayOrderString(
  text: string,
  publicKey: string,
): Promise<{ ok: true; params: Params } | { ok: false; reason: string; params?: Params }> {
  const parsed = parseSecuritypayOrderString(text)
  if (!parsed) return { ok: false, reason: 'malformed-order-string' }
  if (parsed.signType !== 'RSA') return { ok: false, reason: 'sign-type-mismatch', params: parsed.params }
  // The signed text must be exactly the pairs before sign: nothing may follow sign_type.
  if (securitypayString(parsed.params) !== parsed.signedText)
    return { ok: false, reason: 'malformed-order-string', params: parsed.params }
  const verified = await verifyString(
    parsed.signedText,
    parsed.sign,
    'RSA',
    { publicKey },
    parsed.params['_input_charset'] ?? 'utf-8',
  )
  return verified.ok
    ? { ok: true, params: parsed.params }
    : { ok: false, reason: verified.reason, params: parsed.params }
}
