import {
  APP_PAY_SERVICE,
  PC_PAY_SERVICE,
  WAP_PAY_SERVICE,
  formatBeijingTime,
  isOpenapiResponse,
  isPaidStatus,
  missingFields,
  parseRefundResults,
  signParams,
  signatureIsGatewayProof,
  verifyParams,
  verifyPaymentResponse,
  type KeyRing,
  type Params,
  type PaymentMethodSpecificData,
  type SignType,
} from '@alipay-payment-handler/protocol'
import type { MapiClient } from './mapi-client.js'
import type { PaymentGateway } from './payment-gateway.js'
import { mapiTrade } from './trade-snapshot.js'

/** What the mapi adapter needs besides its client: the merchant's partner, seller and keys. */
export interface MapiGatewayOptions {
  client: MapiClient
  partner: string
  sellerId: string
  /** The merchant's md5Key and/or RSA private key (to sign), the gateway's public key (to verify). */
  keys: KeyRing
  signType: SignType
}

/** The mapi gateway behind the PaymentGateway interface (mapi-protocol §3, mapi-protocol §6–10), wrapping the mapi client. */
export function createMapiGateway(options: MapiGatewayOptions): PaymentGateway {
  const { client } = options

  const baseRequest = (order: { orderId: string; subject: string; amount: string }, notifyUrl: string): Params => ({
    partner: options.partner,
    _input_charset: 'utf-8',
    notify_url: notifyUrl,
    out_trade_no: order.orderId,
    subject: order.subject,
    payment_type: '1',
    seller_id: options.sellerId,
    total_fee: order.amount,
  })

  return {
    kind: 'mapi',
    gatewayUrl: client.gatewayUrl,
    sellerId: options.sellerId,

    async payPage(input) {
      const wap = input.payType === 'WAP_PAY' || input.payType === 'mobile'
      const params: Params = {
        service: wap ? WAP_PAY_SERVICE : PC_PAY_SERVICE,
        ...baseRequest(input.order, input.notifyUrl),
      }
      if (input.timeout) params['it_b_pay'] = input.timeout
      if (input.returnUrl) params['return_url'] = input.returnUrl
      if (wap && input.showUrl) params['show_url'] = input.showUrl
      const request = await client.buildPayRequest(params)
      return { payUrl: request.url, form: request.form, channel: wap ? 'mapi-wap' : 'mapi-direct' }
    },

    async paymentData({ order, notifyUrl, expiresAt }) {
      const data: Params = { service: APP_PAY_SERVICE, ...baseRequest(order, notifyUrl) }
      // The APP-pay dictionary takes an absolute it_b_pay (mapi-protocol §2.2): a signed deadline.
      if (expiresAt) data['it_b_pay'] = formatBeijingTime(expiresAt)
      return (await signParams(data, { signType: options.signType, keys: options.keys })) as PaymentMethodSpecificData
    },

    signForPaymentApp: (params) =>
      signParams({ ...params, partner: options.partner }, { signType: options.signType, keys: options.keys }),

    async queryTrade(ref) {
      const result = await client.singleTradeQuery({ tradeNo: ref.tradeNo, outTradeNo: ref.orderId })
      return result.found ? { found: true, trade: mapiTrade(result.trade) } : { found: false }
    },

    async closeTrade(ref) {
      const closed = await client.closeTrade({ tradeNo: ref.tradeNo, outTradeNo: ref.orderId })
      // Never reached the cashier: nothing to close, and nothing can be paid.
      if (!closed.closed && closed.error === 'TRADE_NOT_EXIST') return { closed: true }
      return closed
    },

    async refund(input) {
      const answer = await client.refund({
        batchNo: input.refundNo,
        tradeNo: input.tradeNo,
        amount: input.amount,
        reason: input.reason,
        ...(input.notifyUrl ? { notifyUrl: input.notifyUrl } : {}),
      })
      // mapi refunds are asynchronous: the batch_refund_notify settles them (mapi-protocol §10.2).
      return answer.accepted ? { state: 'submitted' } : { state: 'refused', error: answer.error }
    },

    // mapi has no refund query; the batch_refund_notify is the only answer.
    refundStatus: async () => 'unknown',

    async parseNotify(params, charset = 'utf-8') {
      // The shape first: a signed set of another kind (method data, a pay request) is no notify.
      const missing = missingFields(params, 'mapi-notify')
      if (missing.length > 0) return { ok: false, reason: `malformed-notify: no ${missing.join(', ')}` }
      // The partner's one sign type: a notify signed another way is refused, not tried with another key.
      const verified = await verifyParams(params, { keys: options.keys, signType: options.signType, charset })
      if (!verified.ok) return { ok: false, reason: verified.reason }
      const notifyId = params['notify_id'] ?? ''
      const notifyType = params['notify_type'] ?? 'trade_status_sync'
      if (notifyType === 'batch_refund_notify') {
        // result_details: trade_no^amount^SUCCESS|code per trade (mapi-protocol §10.3); every entry must succeed.
        const batchNo = params['batch_no'] ?? ''
        const codes = parseRefundResults(params['result_details'] ?? '').map((r) => r.result)
        const ok = codes.length > 0 && codes.every((c) => c === 'SUCCESS')
        return {
          ok: true,
          kind: 'refund',
          notifyId,
          notifyType,
          refunds: [{ refundNo: batchNo, ok, code: ok ? undefined : codes.find((c) => c !== 'SUCCESS') }],
        }
      }
      const gatewayProof = signatureIsGatewayProof(params)
      return { ok: true, kind: 'trade', notifyId, notifyType, trade: mapiTrade(params), gatewayProof }
    },

    async confirmNotify(notifyId) {
      return (await client.notifyVerify(notifyId)) === 'true'
    },

    async verifyPaymentResponse(details) {
      // An openapi response names another merchant identity (app_id) and another rule: not ours.
      if (isOpenapiResponse(details)) return { ok: false, reason: 'not-a-mapi-response' }
      const missing = missingFields(details, 'mapi-response')
      if (missing.length > 0) return { ok: false, reason: `malformed-response: no ${missing.join(', ')}` }
      const verified = await verifyPaymentResponse(details, options.keys, { signType: options.signType })
      if (!verified.ok) return { ok: false, reason: verified.reason }
      const paid = details['success'] === 'true' && isPaidStatus(details['trade_status'] as string | undefined)
      return { ok: true, trade: mapiTrade(details), paid }
    },
  }
}
