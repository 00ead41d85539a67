import { encodeText, responseKeyOf, signString, type Charset } from '@alipay-payment-handler/protocol'
import { gatewaySigningKey, replyCertSn } from './cert-mode.js'
import type { OpenapiApp } from './config.js'
import type { SandboxDeps } from './deps.js'

/** The `code`/`msg` pairs of openapi-protocol §4.3 the sandbox answers with. */
export const OPENAPI_CODES = {
  '10000': 'Success',
  '10003': 'order success pay inprocess',
  '20000': 'Service Currently Unavailable',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
} as const
export type OpenapiCode = keyof typeof OPENAPI_CODES

/** A failed openapi call: code, sub_code and a human sub_msg. */
export interface OpenapiFailure {
  code: Exclude<OpenapiCode, '10000' | '10003'>
  subCode: string
  subMsg: string
}

/** Shorthand for an OpenapiFailure. */
export const failure = (code: OpenapiFailure['code'], subCode: string, subMsg: string): OpenapiFailure => ({
  code,
  subCode,
  subMsg,
})

/**
 * Compact JSON as the real gateway writes it: every `/` inside a string written `\/`, non-ASCII
 * raw (openapi-protocol §10.3). JSON.stringify only emits `/` inside strings, so one replace is exact.
 */
export function gatewayJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/')
}

/** The response object: code, msg, sub_code, sub_msg first, then the business fields (openapi-protocol §10.3). */
export function responseObject(
  result: { failure: OpenapiFailure } | { fields: Record<string, unknown> },
): Record<string, unknown> {
  if ('failure' in result) {
    const { code, subCode, subMsg } = result.failure
    return { code, msg: OPENAPI_CODES[code], sub_code: subCode, sub_msg: subMsg }
  }
  return { code: '10000', msg: 'Success', ...result.fields }
}

/**
 * A `<method>_response` reply signed over the exact text of its value with the gateway key and
 * the app's sign type; unsigned under the method's key while the app is unknown; an unsigned
 * `error_response` without a known method. Written in the request's charset, and labelled so.
 */
export async function openapiReply(
  deps: SandboxDeps,
  target: { method: string; app: OpenapiApp | undefined; charset?: Charset | undefined } | undefined,
  result: { failure: OpenapiFailure } | { fields: Record<string, unknown> },
): Promise<Response> {
  const text = gatewayJson(responseObject(result))
  const charset = target?.charset ?? 'utf-8'
  let body: string
  if (target?.app) {
    // The signature covers the characters; a GBK reply is signed over the same text's GBK bytes.
    const sign = await signString(
      text,
      target.app.signType ?? 'RSA2',
      { privateKey: gatewaySigningKey(deps.config, target.app) },
      charset,
    )
    // Certificate mode names the certificate it signed under (openapi-protocol §3.6).
    const certSn = replyCertSn(deps.config, target.app)
    const snMember = certSn ? `"alipay_cert_sn":"${certSn}",` : ''
    body = `{"${responseKeyOf(target.method)}":${text},${snMember}"sign":"${sign.replace(/\//g, '\\/')}"}`
  } else if (target) {
    body = `{"${responseKeyOf(target.method)}":${text}}`
  } else {
    body = `{"error_response":${text}}`
  }
  const label = charset === 'utf-8' ? 'utf-8' : charset.toUpperCase()
  return new Response(charset === 'utf-8' ? body : encodeText(body, charset), {
    status: 200,
    headers: { 'content-type': `application/json;charset=${label}` },
  })
}
