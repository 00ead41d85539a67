import {
  BAR_CODE_SCENE,
  OPENAPI_COUNTER_METHODS,
  OPENAPI_COUNTER_PRODUCT_CODES,
  classifyBarcodeReply,
  cleanOpenapiSubject,
} from '@alipay-payment-handler/protocol'
import { GatewayError } from './gateway-error.js'
import type { OpenapiClient } from './openapi-client.js'
import { openapiTrade } from './openapi-gateway.js'
import type { TradeSnapshot } from './trade-snapshot.js'

/** The order as the counter methods need it. */
export interface CounterOrder {
  orderId: string
  subject: string
  amount: string
}

/**
 * The first reply to a barcode payment, read by the rule of openapi-protocol §14.1: `paid` (10000),
 * `waiting` (10003, the buyer confirms with a password), `unknown` (20000, or no usable reply at all),
 * `failed` (40004 and the rest: the sub-code says why; the cashier may scan again).
 */
export type BarcodePayReply =
  | { kind: 'paid'; trade: TradeSnapshot }
  | { kind: 'waiting'; trade: TradeSnapshot }
  | { kind: 'unknown'; reason: string }
  | { kind: 'failed'; code: string; subCode: string | undefined; subMsg: string | undefined }

/** The face-to-face and APP calls of one openapi app (openapi-protocol §14.1–14.3). */
export interface CounterGateway {
  /** `alipay.trade.pay` with `scene=bar_code` and the buyer's `auth_code`. Never throws for transport failures. */
  payWithCode(input: {
    order: CounterOrder
    authCode: string
    notifyUrl?: string | undefined
  }): Promise<BarcodePayReply>
  /** `alipay.trade.create`: a trade paid elsewhere (JSAPI, the buyer's app); answers its `trade_no`. */
  createTrade(input: {
    order: CounterOrder
    buyerId?: string | undefined
    notifyUrl?: string | undefined
  }): Promise<{ tradeNo: string }>
  /** The signed `alipay.trade.app.pay` order string for the app SDK. */
  appPayOrderString(input: {
    order: CounterOrder
    notifyUrl?: string | undefined
    timeout?: string | undefined
  }): Promise<string>
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined

/** The counter calls over an openapi client. */
export function createOpenapiCounter(client: OpenapiClient): CounterGateway {
  const orderFields = (order: CounterOrder) => ({
    out_trade_no: order.orderId,
    total_amount: order.amount,
    subject: cleanOpenapiSubject(order.subject),
  })

  return {
    async payWithCode({ order, authCode, notifyUrl }) {
      const method = OPENAPI_COUNTER_METHODS.pay
      let result
      try {
        result = await client.call(
          method,
          {
            ...orderFields(order),
            scene: BAR_CODE_SCENE,
            auth_code: authCode,
            product_code: OPENAPI_COUNTER_PRODUCT_CODES.pay,
          },
          { notifyUrl },
        )
      } catch (error) {
        // No reply we can trust: the payment may or may not have happened; the query decides.
        if (error instanceof GatewayError) return { kind: 'unknown', reason: error.code }
        throw error
      }
      const code = result.ok ? '10000' : result.code
      const kind = classifyBarcodeReply(code)
      if (kind === 'paid' && result.ok) return { kind, trade: openapiTrade(result.response) }
      if (kind === 'waiting' && !result.ok && result.signed)
        return { kind, trade: openapiTrade({ ...result.response, trade_status: 'WAIT_BUYER_PAY' }) }
      if (kind === 'failed' && !result.ok) {
        return { kind, code: result.code, subCode: result.subCode, subMsg: result.subMsg }
      }
      return { kind: 'unknown', reason: result.ok ? 'unexpected-reply' : (result.subCode ?? result.code) }
    },

    async createTrade({ order, buyerId, notifyUrl }) {
      const method = OPENAPI_COUNTER_METHODS.create
      const result = await client.call(
        method,
        { ...orderFields(order), ...(buyerId ? { buyer_id: buyerId } : {}) },
        { notifyUrl },
      )
      if (!result.ok) {
        const code = result.subCode ?? result.code
        throw new GatewayError('GATEWAY_REFUSED', method, `refused with ${code}`, { gatewayCode: code })
      }
      const tradeNo = str(result.response['trade_no'])
      if (!tradeNo) throw new GatewayError('GATEWAY_MALFORMED_REPLY', method, 'success reply without trade_no')
      return { tradeNo }
    },

    appPayOrderString({ order, notifyUrl, timeout }) {
      return client.orderString(
        OPENAPI_COUNTER_METHODS.appPay,
        {
          ...orderFields(order),
          product_code: OPENAPI_COUNTER_PRODUCT_CODES.appPay,
          ...(timeout ? { timeout_express: timeout } : {}),
        },
        { notifyUrl },
      )
    },
  }
}
