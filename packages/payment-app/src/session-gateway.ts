import {
  buildOpenapiPaymentResponse,
  buildPaymentResponse,
  verifyOpenapiNotify,
  verifyParams,
  type AlipayPaymentResponse,
  type KeyRing,
  type Params,
  type PaymentMethodSpecificData,
  type SignType,
  type VerifyResult,
} from '@alipay-payment-handler/protocol'
import {
  GatewayError,
  type MapiClient,
  type PayRequest,
  mapiTrade,
  openapiTrade,
  type TradeLookup,
  type OpenapiCallResult,
  type OpenapiClient,
  OPENAPI_METHODS,
  type GatewayKind,
} from '@alipay-payment-handler/gateway-client'
import { translateMethodData, translateToOpenapi, type TranslateOptions } from './translate.js'

type Ref = { tradeNo?: string | undefined; outTradeNo?: string | undefined }

/**
 * What the signing server's sessions and notify relay need from a partner's gateway, mapi or
 * openapi. Trades come back as gateway-client's `TradeSnapshot`, the one trade shape of both
 * gateways (the merchant's order service reads the same), so the session logic is one; signed sets
 * are kept verbatim and verified with their own gateway's rule.
 */
export interface SessionGateway {
  readonly kind: GatewayKind
  /** The `gateway.do` this partner's requests go to. */
  readonly gatewayUrl: string
  /** Re-signs the merchant's verified method data as the gateway's web pay request (no network). */
  buildPayRequest(data: PaymentMethodSpecificData, options: TranslateOptions): Promise<PayRequest>
  /** Verifies a return or a notify with the gateway's rule and the partner's one sign type. */
  verifySigned(params: Params, charset?: string): Promise<VerifyResult>
  /** The app a signed set names, when it names another than ours (openapi `app_id`); else undefined. */
  foreignApp(params: Params): string | undefined
  /** The paid amount a signed set names: `total_fee` (mapi) or `total_amount` (openapi). */
  amountOf(params: Params): string | undefined
  /** The AlipayPaymentResponse from ONE verified signed set (docs/decisions/0003). */
  paymentResponse(params: Params, paid: boolean): AlipayPaymentResponse
  singleTradeQuery(ref: Ref): Promise<TradeLookup>
  closeTrade(ref: Ref): Promise<{ closed: true } | { closed: false; error: string }>
  /** mapi `notify_verify`; `undefined` on openapi, which has none: the signature is the proof (openapi-protocol §0.1). */
  notifyVerify(notifyId: string): Promise<'true' | 'false' | 'invalid' | undefined>
}

/** The mapi session gateway: the mapi client plus the partner's key ring. */
export function mapiSessionGateway(client: MapiClient, keys: KeyRing, signType: SignType): SessionGateway {
  return {
    kind: 'mapi',
    gatewayUrl: client.gatewayUrl,
    buildPayRequest: (data, options) => client.buildPayRequest(translateMethodData(data, options)),
    // The partner's one sign type, whatever the message declares (a declared other type is refused).
    verifySigned: (params, charset) => verifyParams(params, { keys, signType, ...(charset ? { charset } : {}) }),
    foreignApp: () => undefined,
    amountOf: (params) => params['total_fee'],
    paymentResponse: (params, paid) => buildPaymentResponse(params, paid),
    async singleTradeQuery(ref) {
      const result = await client.singleTradeQuery(ref)
      return result.found ? { found: true, trade: mapiTrade(result.trade) } : { found: false }
    },
    closeTrade: (ref) => client.closeTrade(ref),
    notifyVerify: (notifyId) => client.notifyVerify(notifyId),
  }
}

const TRADE_NOT_EXIST = 'ACQ.TRADE_NOT_EXIST'

function refused(method: string, result: Extract<OpenapiCallResult, { ok: false }>): GatewayError {
  const code = result.subCode ?? result.code
  return new GatewayError('GATEWAY_REFUSED', method, `refused with ${code}`, { gatewayCode: code })
}

function openapiRef(ref: Ref): Record<string, string> {
  const out: Record<string, string> = {}
  if (ref.tradeNo) out['trade_no'] = ref.tradeNo
  if (ref.outTradeNo) out['out_trade_no'] = ref.outTradeNo
  if (!ref.tradeNo && !ref.outTradeNo) throw new RangeError('tradeNo or outTradeNo is required')
  return out
}

/** The openapi session gateway (openapi-protocol §5, openapi-protocol §6, openapi-protocol §7): page.pay/wap.pay, query, close, no notify_verify. */
export function openapiSessionGateway(client: OpenapiClient): SessionGateway {
  return {
    kind: 'openapi',
    gatewayUrl: client.gatewayUrl,

    async buildPayRequest(data, options) {
      const { method, biz } = translateToOpenapi(data, options)
      const request = await client.pageRequest(method, biz, {
        notifyUrl: options.notifyUrl,
        returnUrl: options.returnUrl,
      })
      // The signed GET link serves both devices; the form is its equivalent for windows that post.
      return {
        params: request.params,
        url: request.url,
        form: { action: `${client.gatewayUrl}?charset=utf-8`, method: 'get', fields: request.params },
      }
    },

    verifySigned: (params) => verifyOpenapiNotify(params, client.publicKey, { signType: client.signType }),
    foreignApp: (params) => (params['app_id'] !== client.appId ? (params['app_id'] ?? '(none)') : undefined),
    amountOf: (params) => params['total_amount'],
    paymentResponse: (params, paid) => buildOpenapiPaymentResponse(params, paid),

    async singleTradeQuery(ref) {
      const result = await client.call(OPENAPI_METHODS.query, openapiRef(ref))
      if (!result.ok) {
        // Also the normal answer before the payer logged in at the cashier (openapi-protocol §5.1).
        if ((result.subCode ?? result.code) === TRADE_NOT_EXIST) return { found: false }
        throw refused(OPENAPI_METHODS.query, result)
      }
      // The reply itself was verified; the snapshot is its fields in the shape both gateways share.
      return { found: true, trade: openapiTrade(result.response) }
    },

    async closeTrade(ref) {
      const result = await client.call(OPENAPI_METHODS.close, openapiRef(ref))
      if (result.ok) return { closed: true }
      const code = result.subCode ?? result.code
      // A busy gateway is worth asking again (the caller defers); other refusals are answers.
      if (refused(OPENAPI_METHODS.close, result).retryable) throw refused(OPENAPI_METHODS.close, result)
      // Page/WAP orders whose payer never logged in have no trade: nothing can be paid (openapi-protocol §5.5).
      return { closed: false, error: code === TRADE_NOT_EXIST ? 'TRADE_NOT_EXIST' : code }
    },

    notifyVerify: async () => undefined,
  }
}
