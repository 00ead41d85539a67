import {
  bizContent,
  encodeForm,
  formatBeijingTime,
  OPENAPI_METHODS,
  signOpenapiRequest,
  verifyOpenapiReply,
  type OpenapiSignType,
  type Params,
} from '@alipay-payment-handler/protocol'
import { GatewayError, gatewayReplyText } from './gateway-error.js'
import { httpClientFor } from './http-client.js'
import { certificateParams, replyKey, type OpenapiCertificates } from './openapi-cert.js'

/**
 * Everything that decides which openapi gateway we talk to, with the names of
 * docs/decisions/0003-openapi-payment-request.md (openapi-protocol §2, openapi-protocol §3.6).
 */
export interface OpenapiClientOptions {
  /** e.g. `https://openapi.alipay.com/gateway.do`, or the sandbox's openapi endpoint. */
  gatewayUrl: string
  appId: string
  /** The app's RSA private key (signs requests). PEM or bare base64 PKCS#8. */
  privateKey: string
  /**
   * Alipay's public key (verifies replies and notifications), not the app's own (openapi-protocol §11.7).
   * In certificate mode, the key of `certificates`' current Alipay certificate is used instead.
   */
  publicKey: string
  /** Certificate mode (openapi-protocol §3.6): see `loadOpenapiCertificates`. */
  certificates?: OpenapiCertificates | undefined
  /** RSA2 (default) or RSA. */
  signType?: OpenapiSignType
  fetch?: typeof fetch
  /** Per-call timeout of server-to-server calls. */
  timeoutMs?: number
  now?: () => Date
}

/** A signed page-method request (page.pay, wap.pay), as a GET URL and as an equivalent POST form. */
export interface OpenapiPageRequest {
  params: Params
  url: string
  form: { action: string; method: 'post'; fields: Params }
}

/**
 * A verified server reply. `ok` is `code=10000` only; a failure carries `code` and `subCode`
 * (`ACQ.*`, `isv.*`). `signed` is false for the unsigned error replies the gateway may send
 * (`error_response`, openapi-protocol §4.1): reported as failures, never accepted as successes.
 */
export type OpenapiCallResult =
  | { ok: true; response: Record<string, unknown> }
  | {
      ok: false
      code: string
      subCode: string | undefined
      subMsg: string | undefined
      signed: boolean
      response: Record<string, unknown>
    }

/** Common parameters besides the business content. */
export interface OpenapiExtra {
  notifyUrl?: string | undefined
  returnUrl?: string | undefined
}

/** The openapi gateway: page requests built and signed locally, server calls POSTed and verified. */
export interface OpenapiClient {
  readonly gatewayUrl: string
  readonly appId: string
  readonly signType: OpenapiSignType
  readonly publicKey: string
  pageRequest(method: string, biz: Record<string, unknown>, extra?: OpenapiExtra): Promise<OpenapiPageRequest>
  call(method: string, biz: Record<string, unknown>, extra?: OpenapiExtra): Promise<OpenapiCallResult>
  /** An APP-pay order string (`alipay.trade.app.pay`): signed here, handed to the app SDK, never POSTed. */
  orderString(method: string, biz: Record<string, unknown>, extra?: OpenapiExtra): Promise<string>
}

/** Default timeout of a server-to-server call; the gateway answers in well under a second. */
const DEFAULT_TIMEOUT_MS = 10_000
const SUCCESS_CODE = '10000'
const CHARSET = 'utf-8'

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined

/** Creates the openapi client. */
export function createOpenapiClient(options: OpenapiClientOptions): OpenapiClient {
  const http = httpClientFor(options.fetch)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const now = options.now ?? (() => new Date())
  const signType = options.signType ?? 'RSA2'
  const certificates = options.certificates

  async function sign(method: string, biz: Record<string, unknown>, extra: OpenapiExtra = {}): Promise<Params> {
    const params: Params = {
      app_id: options.appId,
      method,
      format: 'JSON',
      charset: CHARSET,
      sign_type: signType,
      // Beijing time whatever the host's zone (openapi-protocol §11.5).
      timestamp: formatBeijingTime(now()),
      version: '1.0',
      biz_content: bizContent(biz),
    }
    // Never send an empty parameter: SDKs disagree on whether it is signed (openapi-protocol §3.2).
    if (extra.notifyUrl) params['notify_url'] = extra.notifyUrl
    if (extra.returnUrl) params['return_url'] = extra.returnUrl
    if (certificates) Object.assign(params, certificateParams(certificates))
    return signOpenapiRequest(params, options.privateKey)
  }

  async function post(method: string, params: Params): Promise<string> {
    // The raw text: the signature covers these exact characters (openapi-protocol §4.2).
    return gatewayReplyText(http, method, {
      method: 'POST',
      url: `${options.gatewayUrl}?charset=${CHARSET}`,
      headers: { 'content-type': `application/x-www-form-urlencoded;charset=${CHARSET}` },
      body: encodeForm(params, CHARSET),
      timeoutMs,
    })
  }

  return {
    gatewayUrl: options.gatewayUrl,
    appId: options.appId,
    signType,
    // In certificate mode, the current certificate's key: it changes when Alipay renews it.
    get publicKey() {
      return certificates ? certificates.publicKey : options.publicKey
    },

    async pageRequest(method, biz, extra) {
      const signed = await sign(method, biz, extra)
      return {
        params: signed,
        url: `${options.gatewayUrl}?${encodeForm(signed, CHARSET)}`,
        // The charset stays in the action so the gateway decodes the body right (openapi-protocol §1.3).
        form: { action: `${options.gatewayUrl}?charset=${CHARSET}`, method: 'post', fields: signed },
      }
    },

    // The order string is the signed set form-encoded, as the app SDK passes it on (openapi-protocol §14.3).
    async orderString(method, biz, extra) {
      return encodeForm(await sign(method, biz, extra), CHARSET)
    },

    async call(method, biz, extra) {
      const body = await post(method, await sign(method, biz, extra))
      const publicKey = certificates
        ? await replyKey(certificates, body, method, signType, async (sn) =>
            post(OPENAPI_METHODS.certDownload, await sign(OPENAPI_METHODS.certDownload, { alipay_cert_sn: sn })),
          )
        : options.publicKey
      const verified = await verifyOpenapiReply(body, method, { publicKey }, signType)
      if (verified.ok) {
        const code = text(verified.response['code']) ?? ''
        if (code === SUCCESS_CODE) return { ok: true, response: verified.response }
        return {
          ok: false,
          code,
          subCode: text(verified.response['sub_code']),
          subMsg: text(verified.response['sub_msg']),
          signed: true,
          response: verified.response,
        }
      }
      const response = verified.response
      const code = text(response?.['code'])
      // An unsigned reply may report a failure; a "success" without a valid signature is refused.
      if (verified.reason === 'missing-sign' && response && code !== undefined && code !== SUCCESS_CODE) {
        return {
          ok: false,
          code,
          subCode: text(response['sub_code']),
          subMsg: text(response['sub_msg']),
          signed: false,
          response,
        }
      }
      if (verified.reason === 'malformed-reply') {
        throw new GatewayError('GATEWAY_MALFORMED_REPLY', method, verified.message)
      }
      throw new GatewayError('GATEWAY_BAD_SIGNATURE', method, `reply signature rejected: ${verified.reason}`)
    },
  }
}
