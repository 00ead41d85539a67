import { HttpCallError, type HttpCall, type HttpClient, type HttpReply } from './http-client.js'
import { SERVER_PREFIX } from '@alipay-payment-handler/server-runtime'

/** Why a call to the gateway failed. Stable; callers branch on it. */
export type GatewayErrorCode =
  'GATEWAY_TIMEOUT' | 'GATEWAY_UNAVAILABLE' | 'GATEWAY_MALFORMED_REPLY' | 'GATEWAY_BAD_SIGNATURE' | 'GATEWAY_REFUSED'

/**
 * Refusals that mean "try again with the same parameters" (openapi-protocol §4.3, openapi-protocol §4.4): the gateway was
 * busy, or the merchant balance was short for a refund (top up, retry with the same out_request_no).
 */
const RETRYABLE_GATEWAY_CODES: ReadonlySet<string> = new Set([
  'ACQ.SYSTEM_ERROR',
  'ACQ.SELLER_BALANCE_NOT_ENOUGH',
  'isp.unknow-error',
  'aop.unknow-error',
])

/**
 * A failed gateway call: transport (timeout, 5xx), a reply we cannot trust (malformed, bad
 * signature) or a refusal (`is_success=F`, with the gateway's `error` code in `gatewayCode`).
 */
export class GatewayError extends Error {
  override name = 'GatewayError'
  readonly code: GatewayErrorCode
  readonly service: string
  readonly gatewayCode: string | undefined
  readonly httpStatus: number | undefined

  constructor(
    code: GatewayErrorCode,
    service: string,
    message: string,
    extra: { gatewayCode?: string; httpStatus?: number } = {},
  ) {
    super(`${SERVER_PREFIX} ${service}: ${message}`)
    this.code = code
    this.service = service
    this.gatewayCode = extra.gatewayCode
    this.httpStatus = extra.httpStatus
  }

  /**
   * True for failures worth retrying later with the same parameters (transport, or a gateway that
   * says it is busy), false for answers that will not change.
   */
  get retryable(): boolean {
    if (this.code === 'GATEWAY_TIMEOUT' || this.code === 'GATEWAY_UNAVAILABLE') return true
    return this.code === 'GATEWAY_REFUSED' && RETRYABLE_GATEWAY_CODES.has(this.gatewayCode ?? '')
  }

  /** Turns an HTTP answer that is not a usable reply into the matching error. */
  static fromResponse(service: string, status: number): GatewayError {
    return new GatewayError('GATEWAY_UNAVAILABLE', service, `gateway answered HTTP ${status}`, { httpStatus: status })
  }
}

/** The text of the gateway's 2xx reply to `call`; no reply, or another status, is the matching GatewayError. */
export async function gatewayReplyText(http: HttpClient, service: string, call: HttpCall): Promise<string> {
  let reply: HttpReply
  try {
    reply = await http(call)
  } catch (error) {
    if (!(error instanceof HttpCallError)) throw error
    const code = error.failure === 'timeout' ? 'GATEWAY_TIMEOUT' : 'GATEWAY_UNAVAILABLE'
    throw new GatewayError(code, service, error.message)
  }
  if (reply.status < 200 || reply.status > 299) throw GatewayError.fromResponse(service, reply.status)
  return reply.text
}
