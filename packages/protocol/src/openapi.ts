import { ProtocolError } from './errors.js'
import { signString, verifyString, type KeyRing, type VerifyResult } from './sign.js'
import { stringToSign } from './string-to-sign.js'

/**
 * Alipay's current gateway ("openapi": app_id, RSA2, alipay.trade.*). Its three signing rules
 * differ from mapi's and from each other (openapi-protocol §3.1): requests KEEP sign_type in the string,
 * notifications and returns drop it, and replies are verified over the raw text of one JSON value.
 */

/** openapi sign types: RSA2 (SHA256withRSA, the default) or RSA (SHA1withRSA). */
export type OpenapiSignType = 'RSA2' | 'RSA'

/**
 * The string to sign of an openapi request: everything but `sign` and empty values, sorted.
 * `keepEmpty` keeps empty values as `key=` (what the Node SDK signs, openapi-protocol §3.2 step 3).
 */
export function openapiRequestString(
  params: Readonly<Record<string, string | undefined>>,
  options: { keepEmpty?: boolean } = {},
): string {
  if (!options.keepEmpty) return stringToSign(params, ['sign'])
  return Object.keys(params)
    .filter((key) => key !== 'sign' && typeof params[key] === 'string')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => `${key}=${params[key]}`)
    .join('&')
}

/**
 * The string to sign of a notification or return: `sign` and `sign_type` left out — except
 * application-gateway notifications, which carry `method` and keep `sign_type` (openapi-protocol §3.1).
 */
export function openapiNotifyString(params: Readonly<Record<string, string | undefined>>): string {
  return stringToSign(params, keepsSignType(params['method']) ? ['sign'] : ['sign', 'sign_type'])
}

/**
 * Application-gateway notifications (a `method` such as `alipay.open.servicemarket.order.notify`)
 * sign `sign_type`; browser returns also carry `method` (`alipay.trade.page.pay.return`) but
 * drop it like a trade notification (openapi-protocol §6.5, openapi-protocol §7).
 */
function keepsSignType(method: string | undefined): boolean {
  return method !== undefined && !method.endsWith('.return')
}

/** Signs an openapi request with the app private key; returns a copy with `sign` set. */
export async function signOpenapiRequest(
  params: Readonly<Record<string, string>>,
  privateKey: string,
): Promise<Record<string, string>> {
  const { sign: _old, ...rest } = params
  const signType = (rest['sign_type'] ?? 'RSA2') as OpenapiSignType
  const withType = { ...rest, sign_type: signType }
  const sign = await signString(openapiRequestString(withType), signType, { privateKey }, rest['charset'] ?? 'utf-8')
  return { ...withType, sign }
}

/** Verifies an openapi request (the sandbox's side) with the app public key; `keepEmpty` as in openapiRequestString. */
export function verifyOpenapiRequest(
  params: Readonly<Record<string, string | undefined>>,
  publicKey: string,
  options: { keepEmpty?: boolean } = {},
): Promise<VerifyResult> {
  const signType = (params['sign_type'] ?? '') as OpenapiSignType
  return verifyString(
    openapiRequestString(params, options),
    params['sign'] ?? '',
    signType,
    { publicKey },
    params['charset'] ?? 'utf-8',
  )
}

/** Verifies a notification or return with the Alipay public key. */
export function verifyOpenapiNotify(
  params: Readonly<Record<string, string | undefined>>,
  publicKey: string,
  options: { signType?: OpenapiSignType } = {},
): Promise<VerifyResult> {
  const signType = (params['sign_type'] ?? 'RSA2') as OpenapiSignType
  // One sign type per app: a notify signed otherwise is refused, never checked under another rule.
  if (options.signType && signType !== options.signType) {
    return Promise.resolve({
      ok: false,
      reason: 'sign-type-mismatch',
      message: `expected sign_type ${options.signType}, got "${signType}"`,
    })
  }
  return verifyString(
    openapiNotifyString(params),
    params['sign'] ?? '',
    signType,
    { publicKey },
    params['charset'] ?? 'utf-8',
  )
}

/** Signs a notification or return (the sandbox's side) with the Alipay private key. */
export async function signOpenapiNotify(
  params: Readonly<Record<string, string>>,
  privateKey: string,
  signType: OpenapiSignType = 'RSA2',
): Promise<Record<string, string>> {
  const { sign: _old, ...rest } = params
  const withType = { ...rest, sign_type: signType }
  const sign = await signString(openapiNotifyString(withType), signType, { privateKey }, rest['charset'] ?? 'utf-8')
  return { ...withType, sign }
}

/** The reply member of a method: `alipay.trade.query` → `alipay_trade_query_response`. */
export function responseKeyOf(method: string): string {
  return `${method.replace(/\./g, '_')}_response`
}

/**
 * Finds the exact text of a top-level member's object value by matching braces, string-aware
 * (braces inside strings do not count, `\"` does not end a string). Never re-serialises.
 */
export function extractMemberText(body: string, member: string): string | undefined {
  const needle = `"${member}"`
  let depth = 0
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === '"') {
      // A top-level key is a string at depth 1 followed by a colon.
      if (depth === 1 && body.startsWith(needle, i)) {
        let j = i + needle.length
        while (/\s/.test(body[j] ?? '')) j++
        if (body[j] === ':') {
          j++
          while (/\s/.test(body[j] ?? '')) j++
          return body[j] === '{' ? matchObject(body, j) : undefined
        }
      }
      inString = true
    }
  }
  return undefined
}

function matchObject(body: string, start: number): string | undefined {
  let depth = 0
  let inString = false
  for (let i = start; i < body.length; i++) {
    const c = body[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{') depth++
    else if (c === '}' && --depth === 0) return body.slice(start, i + 1)
  }
  return undefined
}

/** A verified openapi reply: the parsed response object and the exact text that was signed. */
export interface OpenapiReply {
  key: string
  response: Record<string, unknown>
  signedText: string
  /** `true` when the signature covered the text only after `\/` was unescaped (PHP SDK fallback). */
  unescapedSlashes: boolean
}

export type OpenapiReplyResult =
  | ({ ok: true } & OpenapiReply)
  | { ok: false; reason: string; message: string; key?: string; response?: Record<string, unknown> }

/**
 * Verifies a reply body: takes the raw text of `<method>_response` (or `error_response`),
 * verifies `sign` over exactly those bytes with the Alipay public key, and only then parses it.
 * A reply without a signature can be reported as an error but never accepted (openapi-protocol §4.1).
 */
export async function verifyOpenapiReply(
  body: string,
  method: string,
  keys: Pick<KeyRing, 'publicKey'>,
  signType: OpenapiSignType = 'RSA2',
): Promise<OpenapiReplyResult> {
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(body) as Record<string, unknown>
  } catch {
    return { ok: false, reason: 'malformed-reply', message: 'reply is not JSON' }
  }
  const key = [responseKeyOf(method), 'error_response'].find((k) => typeof parsed[k] === 'object' && parsed[k] !== null)
  if (!key) return { ok: false, reason: 'malformed-reply', message: `reply has no ${responseKeyOf(method)}` }
  const response = parsed[key] as Record<string, unknown>
  const signedText = extractMemberText(body, key)
  const sign = parsed['sign']
  if (!signedText)
    return { ok: false, reason: 'malformed-reply', message: 'cannot find the signed text', key, response }
  if (typeof sign !== 'string' || sign === '') {
    return {
      ok: false,
      reason: 'missing-sign',
      message: 'reply is not signed; it may report an error but never a success',
      key,
      response,
    }
  }
  const verified = await verifyString(signedText, sign, signType, keys)
  if (verified.ok) return { ok: true, key, response, signedText, unescapedSlashes: false }
  if (signedText.includes('\\/')) {
    const unescaped = signedText.replace(/\\\//g, '/')
    if ((await verifyString(unescaped, sign, signType, keys)).ok) {
      return { ok: true, key, response, signedText: unescaped, unescapedSlashes: true }
    }
  }
  return { ok: false, reason: verified.reason, message: verified.message, key, response }
}

/** Serialises biz_content once; the text sent is the text signed (openapi-protocol §3.5). */
export function bizContent(value: Record<string, unknown>): string {
  const text = JSON.stringify(value)
  if (text.length > 64 * 1024)
    throw new ProtocolError('FIELD_LENGTH', 'biz_content is too large', { field: 'biz_content' })
  return text
}
