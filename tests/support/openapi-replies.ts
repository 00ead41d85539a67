import { responseKeyOf, signString } from '@alipay-payment-handler/protocol'
import { DEMO_GATEWAY_RSA } from '@alipay-payment-handler/sandbox/testing'

/**
 * openapi gateway replies for msw tests, written as the real gateway writes them: compact JSON,
 * `/` escaped as `\/` inside strings, the signature over exactly the response member's text
 * (openapi-protocol §4.1, openapi-protocol §4.2). Signed with the sandbox's "Alipay" key unless told otherwise.
 */
export async function openapiReply(
  method: string,
  fields: Record<string, unknown>,
  options: { privateKey?: string; sign?: string | null; member?: string } = {},
): Promise<string> {
  const inner = JSON.stringify(fields).replace(/\//g, '\\/')
  const member = options.member ?? responseKeyOf(method)
  const sign =
    options.sign === undefined
      ? await signString(inner, 'RSA2', { privateKey: options.privateKey ?? DEMO_GATEWAY_RSA.privateKey })
      : options.sign
  return sign === null ? `{"${member}":${inner}}` : `{"${member}":${inner},"sign":"${sign}"}`
}

/** A successful reply (`code=10000`) with these business fields. */
export const okReply = (method: string, fields: Record<string, unknown> = {}, options = {}) =>
  openapiReply(method, { code: '10000', msg: 'Success', ...fields }, options)

/** A signed business failure (`40004` and an `ACQ.*` sub-code). */
export const failReply = (method: string, subCode: string, options = {}) =>
  openapiReply(method, { code: '40004', msg: 'Business Failed', sub_code: subCode, sub_msg: subCode }, options)
