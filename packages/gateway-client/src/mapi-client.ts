import {
  MAPI_SERVICES,
  PC_PAY_SERVICE,
  WAP_PAY_SERVICE,
  ProtocolError,
  buildRefundDetail,
  encodeForm,
  formatBeijingTime,
  parseGatewayReply,
  signParams,
  verifyTradeReply,
  type GatewayReply,
  type KeyRing,
  type Params,
  type SignType,
} from '@alipay-payment-handler/protocol'
import { GatewayError, gatewayReplyText } from './gateway-error.js'
import { httpClientFor } from './http-client.js'

/** Everything that decides which gateway we talk to: switching sandbox ↔ real is these values. */
export interface MapiClientOptions {
  /** The full `gateway.do` URL, e.g. `http://localhost:4300/gateway.do` or `https://mapi.alipay.com/gateway.do`. */
  gatewayUrl: string
  partner: string
  /** `md5Key` and/or `privateKey` (our side) plus `publicKey` (the gateway's). */
  keys: KeyRing
  /** The sign type of our requests; the gateway answers in the same type. */
  signType: SignType
  /** The seller account refunds are paid from; defaults to `partner`. */
  sellerId?: string
  fetch?: typeof fetch
  /** Per-call timeout of server-to-server calls. */
  timeoutMs?: number
  now?: () => Date
}

/** A signed pay request, as a GET URL and as the fields of an equivalent form. */
export interface PayRequest {
  params: Params
  url: string
  form: { action: string; method: 'get'; fields: Params }
}

/** What `single_trade_query` found. */
export type TradeQueryResult = { found: true; trade: Params } | { found: false }

/** The refund a merchant asks for (`refund_fastpay_by_platform_nopwd`). */
export interface RefundInput {
  batchNo: string
  tradeNo: string
  amount: string
  reason: string
  notifyUrl?: string
}

/** The gateway, one method per service (mapi-protocol §3, mapi-protocol §7–10). */
export interface MapiClient {
  readonly gatewayUrl: string
  readonly partner: string
  /** Builds and signs a `create_direct_pay_by_user` / WAP pay request (no network call). */
  buildPayRequest(params: Params): Promise<PayRequest>
  singleTradeQuery(ref: { tradeNo?: string | undefined; outTradeNo?: string | undefined }): Promise<TradeQueryResult>
  /** Closes an unpaid trade. Resolves `closed` or the gateway's refusal code (e.g. `TRADE_STATUS_NOT_AVAILD`). */
  closeTrade(ref: {
    tradeNo?: string | undefined
    outTradeNo?: string | undefined
  }): Promise<{ closed: true } | { closed: false; error: string }>
  /** `true`, `false` or `invalid`, as the gateway answers (mapi-protocol §7). */
  notifyVerify(notifyId: string): Promise<'true' | 'false' | 'invalid'>
  /** Submits a no-password refund batch; `accepted` means queued, the result comes by notify (mapi-protocol §10.2). */
  refund(input: RefundInput): Promise<{ accepted: true } | { accepted: false; error: string }>
}

/** Default timeout of a server-to-server call; the gateway answers in well under a second. */
const DEFAULT_TIMEOUT_MS = 10_000

/** Creates the gateway client. */
export function createMapiClient(options: MapiClientOptions): MapiClient {
  const http = httpClientFor(options.fetch)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const now = options.now ?? (() => new Date())
  const charset = 'utf-8'

  const sign = (params: Params) => signParams(params, { signType: options.signType, keys: options.keys, charset })

  async function call(service: string, params: Params): Promise<string> {
    const url = `${options.gatewayUrl}?${encodeForm(params, charset)}`
    return gatewayReplyText(http, service, { method: 'GET', url, timeoutMs })
  }

  async function callXml(service: string, params: Params): Promise<GatewayReply> {
    const text = await call(service, await sign(params))
    try {
      return parseGatewayReply(text)
    } catch (error) {
      const detail = error instanceof ProtocolError ? error.message : String(error)
      throw new GatewayError('GATEWAY_MALFORMED_REPLY', service, `reply is not a gateway XML document (${detail})`)
    }
  }

  const common = (service: string): Params => ({ service, partner: options.partner, _input_charset: charset })

  const ref = (input: { tradeNo?: string | undefined; outTradeNo?: string | undefined }, outKey: string): Params => {
    // trade_no wins when both are known (mapi-protocol §8, mapi-protocol §9).
    if (input.tradeNo) return { trade_no: input.tradeNo }
    if (input.outTradeNo) return { [outKey]: input.outTradeNo }
    throw new RangeError('tradeNo or outTradeNo is required')
  }

  return {
    gatewayUrl: options.gatewayUrl,
    partner: options.partner,

    async buildPayRequest(params) {
      const service = params['service']
      if (service !== PC_PAY_SERVICE && service !== WAP_PAY_SERVICE) {
        throw new RangeError(`buildPayRequest takes the web pay services only, not "${String(service)}"`)
      }
      const signed = await sign({ ...params, partner: options.partner, _input_charset: charset })
      return {
        params: signed,
        url: `${options.gatewayUrl}?${encodeForm(signed, charset)}`,
        // The official demo's form: action carries the charset, every parameter is a hidden input.
        form: { action: `${options.gatewayUrl}?_input_charset=${charset}`, method: 'get', fields: signed },
      }
    },

    async singleTradeQuery(input) {
      const service = MAPI_SERVICES.query
      const reply = await callXml(service, { ...common(service), ...ref(input, 'out_trade_no') })
      if (!reply.isSuccess) {
        if (reply.error === 'TRADE_NOT_EXIST') return { found: false }
        throw new GatewayError('GATEWAY_REFUSED', service, `refused with ${reply.error ?? 'no error code'}`, {
          gatewayCode: reply.error ?? 'UNKNOWN',
        })
      }
      if (!reply.trade) throw new GatewayError('GATEWAY_MALFORMED_REPLY', service, 'success reply without <trade>')
      const verified = await verifyTradeReply(reply, options.keys, charset)
      if (!verified.ok) {
        throw new GatewayError('GATEWAY_BAD_SIGNATURE', service, `reply signature rejected: ${verified.reason}`)
      }
      return { found: true, trade: reply.trade }
    },

    async closeTrade(input) {
      const service = MAPI_SERVICES.close
      // The order-number name is uncertain (mapi-protocol §9); out_order_no is what the widely used client sends.
      const reply = await callXml(service, { ...common(service), ...ref(input, 'out_order_no') })
      return reply.isSuccess ? { closed: true } : { closed: false, error: reply.error ?? 'UNKNOWN' }
    },

    async notifyVerify(notifyId) {
      const service = MAPI_SERVICES.notifyVerify
      // Unsigned (mapi-protocol §7); the once-decoded notify_id is sent properly encoded (mapi-protocol §5.2).
      const text = (await call(service, { service, partner: options.partner, notify_id: notifyId })).trim()
      if (text === 'true' || text === 'false' || text === 'invalid') return text
      // The official demo accepts any body ending in "true"; we accept only the exact words.
      throw new GatewayError('GATEWAY_MALFORMED_REPLY', service, 'answer is not true, false or invalid')
    },

    async refund(input) {
      const service = MAPI_SERVICES.refund
      const params: Params = {
        ...common(service),
        seller_user_id: options.sellerId ?? options.partner,
        refund_date: formatBeijingTime(now()),
        batch_no: input.batchNo,
        batch_num: '1',
        // One entry, trade_no^amount^reason (mapi-protocol §10.1); the reason is the caller's to clean.
        detail_data: buildRefundDetail([{ tradeNo: input.tradeNo, amount: input.amount, reason: input.reason }]),
      }
      if (input.notifyUrl) params['notify_url'] = input.notifyUrl
      const reply = await callXml(service, params)
      return reply.isSuccess ? { accepted: true } : { accepted: false, error: reply.error ?? 'UNKNOWN' }
    },
  }
}
