import {
  APP_PAY_SERVICE,
  OPENAPI_METHODS,
  OPENAPI_PRODUCT_CODES,
  OPENAPI_RESPONSE_UNSIGNED_KEYS,
  cleanOpenapiSubject,
  formatBeijingTime,
  isOpenapiResponse,
  isPaidStatus,
  missingFields,
  signParams,
  signatureIsGatewayProof,
  verifyOpenapiNotify,
  verifyPaymentResponse,
  type Params,
  type PaymentMethodSpecificData,
} from '@alipay-payment-handler/protocol'
import { GatewayError } from './gateway-error.js'
import { createOpenapiCounter } from './openapi-barcode.js'
import type { OpenapiCallResult, OpenapiClient } from './openapi-client.js'
import { openapiStatementRows } from './openapi-statement.js'
import type { PaymentGateway, TradeRef } from './payment-gateway.js'
import type { TradeSnapshot } from './trade-snapshot.js'

/** What the openapi adapter needs besides its client. */
export interface OpenapiGatewayOptions {
  client: OpenapiClient
  /** The seller account (`2088…`) trades must name; the basic openapi config has none, so it is optional. */
  sellerId?: string | undefined
  /** How often to repeat `alipay.trade.cancel` while it answers retry_flag=Y (openapi-protocol §5.6). */
  cancelAttempts?: number
  /**
   * How this merchant signs PaymentMethodSpecificData for the payment app (docs/decisions/0003):
   * `partner` is the name the signing server knows the app by (its merchant id `2088…` or an
   * alias), signed RSA2 (or RSA) with the app private key under the mapi string rule. Without it,
   * `paymentData` is not offered.
   */
  methodData?: { partner: string; privateKey: string; signType?: 'RSA2' | 'RSA' } | undefined
  /** Downloads statements (default: the global fetch). */
  fetch?: typeof fetch | undefined
}

/** openapi-protocol §5 methods: protocol's table, still exported here for this package's callers. */
export { OPENAPI_METHODS } from '@alipay-payment-handler/protocol'

const TRADE_NOT_EXIST = 'ACQ.TRADE_NOT_EXIST'
const CANCEL_ATTEMPTS = 3

const str = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined

/** Reply fields as strings; arrays and objects (fund_bill_list) as their JSON text. */
function flatten(response: Record<string, unknown>): Params {
  const out: Params = {}
  for (const [key, value] of Object.entries(response)) {
    if (value === null || value === undefined) continue
    out[key] = typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  return out
}

/** An openapi trade (query reply, notification, return) as a snapshot. */
export function openapiTrade(fields: Readonly<Record<string, unknown>>): TradeSnapshot {
  return {
    outTradeNo: str(fields['out_trade_no']),
    tradeNo: str(fields['trade_no']),
    status: str(fields['trade_status']),
    amount: str(fields['total_amount']),
    sellerId: str(fields['seller_id']),
    payTime: str(fields['gmt_payment']) ?? str(fields['send_pay_date']),
    raw: flatten(fields),
  }
}

const ref = (input: TradeRef): Record<string, string> =>
  input.tradeNo ? { out_trade_no: input.orderId, trade_no: input.tradeNo } : { out_trade_no: input.orderId }

/** The code a failure is known by: the `ACQ.*`/`isv.*` sub-code, else the top-level code. */
const failureCode = (result: Extract<OpenapiCallResult, { ok: false }>) => result.subCode ?? result.code

function refused(method: string, result: Extract<OpenapiCallResult, { ok: false }>): GatewayError {
  const code = failureCode(result)
  return new GatewayError(
    'GATEWAY_REFUSED',
    method,
    `refused with ${code}${result.subMsg ? ` (${result.subMsg})` : ''}`,
    {
      gatewayCode: code,
    },
  )
}

/** The openapi gateway behind the PaymentGateway interface (openapi-protocol §5–9). */
export function createOpenapiGateway(options: OpenapiGatewayOptions): PaymentGateway {
  const { client } = options

  async function refundStatus(input: { refundNo: string; orderId: string; tradeNo?: string | undefined }) {
    const method = OPENAPI_METHODS.refundQuery
    const result = await client.call(method, { ...ref(input), out_request_no: input.refundNo })
    if (!result.ok) {
      if (failureCode(result) === TRADE_NOT_EXIST) return 'unknown'
      throw refused(method, result)
    }
    // 10000 only means the query worked; refund data means refunded (openapi-protocol §5.8).
    const status = str(result.response['refund_status'])
    if (status === 'REFUND_SUCCESS') return 'success'
    return status === undefined && str(result.response['refund_amount']) ? 'success' : 'unknown'
  }

  const methodData = options.methodData
  const paymentData = methodData
    ? async ({
        order,
        notifyUrl,
        expiresAt,
      }: {
        order: { orderId: string; subject: string; amount: string }
        notifyUrl: string
        expiresAt?: Date | undefined
      }) => {
        // The spec's dictionary, as on mapi; the signing server re-signs it as page.pay/wap.pay.
        const data: Params = {
          service: APP_PAY_SERVICE,
          partner: methodData.partner,
          _input_charset: 'utf-8',
          notify_url: notifyUrl,
          out_trade_no: order.orderId,
          subject: order.subject,
          payment_type: '1',
          total_fee: order.amount,
        }
        if (options.sellerId) data['seller_id'] = options.sellerId
        if (expiresAt) data['it_b_pay'] = formatBeijingTime(expiresAt)
        const signed = await signParams(data, {
          signType: methodData.signType ?? 'RSA2',
          keys: { privateKey: methodData.privateKey },
        })
        return signed as PaymentMethodSpecificData
      }
    : undefined
  const signForPaymentApp = methodData
    ? (params: Params) =>
        signParams(
          { ...params, partner: methodData.partner },
          { signType: methodData.signType ?? 'RSA2', keys: { privateKey: methodData.privateKey } },
        )
    : undefined

  return {
    ...(paymentData ? { paymentData } : {}),
    ...(signForPaymentApp ? { signForPaymentApp } : {}),
    kind: 'openapi',
    counter: createOpenapiCounter(client),
    gatewayUrl: client.gatewayUrl,
    sellerId: options.sellerId,

    async payPage(input) {
      const biz: Record<string, unknown> = {
        out_trade_no: input.order.orderId,
        total_amount: input.order.amount,
        // The order keeps its own subject; the request's is cleaned (openapi-protocol §5.1).
        subject: cleanOpenapiSubject(input.order.subject),
      }
      if (input.timeout) biz['timeout_express'] = input.timeout
      if (input.payType === 'PRE_PAY') {
        const method = OPENAPI_METHODS.precreate
        const result = await client.call(
          method,
          { ...biz, product_code: OPENAPI_PRODUCT_CODES.precreate },
          { notifyUrl: input.notifyUrl },
        )
        if (!result.ok) throw refused(method, result)
        const qrCode = str(result.response['qr_code'])
        if (!qrCode) throw new GatewayError('GATEWAY_MALFORMED_REPLY', method, 'success reply without qr_code')
        return { payUrl: qrCode, form: undefined, channel: 'precreate' }
      }
      const wap = input.payType === 'WAP_PAY' || input.payType === 'mobile'
      if (wap && input.showUrl) biz['quit_url'] = input.showUrl
      const request = await client.pageRequest(
        wap ? OPENAPI_METHODS.wapPay : OPENAPI_METHODS.pagePay,
        { ...biz, product_code: wap ? OPENAPI_PRODUCT_CODES.wapPay : OPENAPI_PRODUCT_CODES.pagePay },
        { notifyUrl: input.notifyUrl, returnUrl: input.returnUrl },
      )
      return { payUrl: request.url, form: request.form, channel: wap ? 'wap' : 'page' }
    },

    async queryTrade(input) {
      const method = OPENAPI_METHODS.query
      const result = await client.call(method, ref(input))
      if (!result.ok) {
        // Also the normal answer before the payer logged in at a page/WAP cashier (openapi-protocol §5.1).
        if (failureCode(result) === TRADE_NOT_EXIST) return { found: false }
        throw refused(method, result)
      }
      return { found: true, trade: openapiTrade(result.response) }
    },

    async closeTrade(input) {
      // A QR code stays scannable after close answers TRADE_NOT_EXIST: cancel is what kills it.
      // So is a barcode trade waiting for the buyer's password (openapi-protocol §14.1).
      if (input.channel === 'precreate' || input.channel === 'barcode') {
        const method = OPENAPI_METHODS.cancel
        const attempts = options.cancelAttempts ?? CANCEL_ATTEMPTS
        for (let attempt = 1; ; attempt++) {
          const result = await client.call(method, ref(input))
          if (!result.ok) {
            const code = failureCode(result)
            if (code === TRADE_NOT_EXIST) return { closed: true }
            if (code === 'ACQ.SYSTEM_ERROR' && attempt < attempts) continue
            if (code === 'ACQ.SYSTEM_ERROR') throw refused(method, result)
            return { closed: false, error: code }
          }
          if (str(result.response['retry_flag']) === 'Y' && attempt < attempts) continue
          if (str(result.response['retry_flag']) === 'Y') {
            throw new GatewayError('GATEWAY_REFUSED', method, 'still asks to retry', {
              gatewayCode: 'ACQ.SYSTEM_ERROR',
            })
          }
          return { closed: true, action: str(result.response['action']) === 'refund' ? 'refund' : 'close' }
        }
      }
      const method = OPENAPI_METHODS.close
      const result = await client.call(method, ref(input))
      if (result.ok) return { closed: true }
      const code = failureCode(result)
      // Page/WAP orders whose payer never logged in have no trade: nothing can be paid (openapi-protocol §5.5).
      if (code === TRADE_NOT_EXIST) return { closed: true }
      if (code === 'ACQ.SYSTEM_ERROR') throw refused(method, result)
      return { closed: false, error: code }
    },

    async refund(input) {
      const method = OPENAPI_METHODS.refund
      const biz: Record<string, unknown> = {
        ...ref(input),
        refund_amount: input.amount,
        // Identical on every retry of this refund: the gateway then refunds at most once (openapi-protocol §8.2).
        out_request_no: input.refundNo,
      }
      if (input.reason) biz['refund_reason'] = input.reason
      const result = await client.call(method, biz)
      if (!result.ok) {
        const error = refused(method, result)
        if (error.retryable) throw error
        return { state: 'refused', error: failureCode(result) }
      }
      // 10000 is not "refunded": fund_change=Y is; otherwise ask (openapi-protocol §8.2).
      if (str(result.response['fund_change']) === 'Y') return { state: 'success' }
      return (await refundStatus(input)) === 'success' ? { state: 'success' } : { state: 'submitted' }
    },

    refundStatus,

    async parseNotify(params) {
      const missing = missingFields(params, 'openapi-notify')
      if (missing.length > 0) return { ok: false, reason: `malformed-notify: no ${missing.join(', ')}` }
      const verified = await verifyOpenapiNotify(params, client.publicKey, { signType: client.signType })
      if (!verified.ok) return { ok: false, reason: verified.reason }
      const notifyId = params['notify_id'] ?? ''
      const notifyType = params['notify_type'] ?? 'trade_status_sync'
      const appId = params['app_id']
      const refundNo = params['out_biz_no'] && params['refund_fee'] ? params['out_biz_no'] : undefined
      return {
        ok: true,
        kind: 'trade',
        notifyId,
        notifyType,
        trade: openapiTrade(params),
        gatewayProof: signatureIsGatewayProof(params),
        ...(refundNo ? { refundNo } : {}),
        ...(appId !== client.appId ? { foreign: 'APP_ID_MISMATCH' } : {}),
      }
    },

    statementRows: (request) => openapiStatementRows(client, request, options.fetch ? { fetch: options.fetch } : {}),

    // openapi has no notify_verify: the signature is the proof (openapi-protocol §0.1).
    confirmNotify: async () => undefined,

    async verifyPaymentResponse(details) {
      // A mapi response never verifies under openapi's key and rule: refuse it by name.
      if (!isOpenapiResponse(details)) return { ok: false, reason: 'not-an-openapi-response' }
      // success, gateway and the total_fee mirror are outside the signature (docs/decisions/0003).
      const missing = missingFields(details, 'openapi-response')
      if (missing.length > 0) return { ok: false, reason: `malformed-response: no ${missing.join(', ')}` }
      const verified = await verifyPaymentResponse(
        details,
        { publicKey: client.publicKey },
        { signType: client.signType },
      )
      if (!verified.ok) return { ok: false, reason: verified.reason }
      const strings: Params = {}
      for (const [key, value] of Object.entries(details)) {
        if (typeof value === 'string' && !OPENAPI_RESPONSE_UNSIGNED_KEYS.includes(key)) strings[key] = value
      }
      if (strings['app_id'] !== client.appId) return { ok: false, reason: 'app-id-mismatch' }
      const success = details['success']
      const trade = openapiTrade(strings)
      // A return carries no trade_status (openapi-protocol §7): only the gateway can say it is paid.
      const paid = success === 'false' ? false : trade.status === undefined ? undefined : isPaidStatus(trade.status)
      return { ok: true, trade, paid }
    },
  }
}
