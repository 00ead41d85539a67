import { delay, http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeForm,
  signOpenapiNotify,
  signString,
  stringToSign,
  verifyOpenapiRequest,
  verifyParams,
  type Params,
} from '@alipay-payment-handler/protocol'
import { DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA } from '@alipay-payment-handler/sandbox/testing'
import { createPaymentGateway } from './gateway-config.js'
import { GatewayError } from './gateway-error.js'
import { createOpenapiClient } from './openapi-client.js'
import {
  OrderError,
  createOrderService,
  type OrderService,
  type PaidVia,
  openSqliteOrderStore,
  type OrderStore,
} from '@alipay-payment-handler/merchant'
import { failReply, okReply, openapiReply } from '../../../tests/support/openapi-replies.js'
import { tempDir } from '../../../tests/support/harness.js'

/** msw sees the global fetch, not undici's own sockets: the components call the gateway through it here. */
const viaMsw: typeof fetch = (input, init) => globalThis.fetch(input, init)

const GATEWAY = 'http://openapi.test/gateway.do'
const APP_ID = '2021000122671080'
const SELLER_ID = '2088101122136241'
const QUERY = 'alipay.trade.query'
/** The app's key pair (the merchant RSA pair doubles as it) and the "Alipay" key pair. */
const APP = DEMO_MERCHANT_RSA
const ALIPAY = DEMO_GATEWAY_RSA

const server = setupServer()
/** Every server call the gateway got: its method, all parameters (URL and body), and its biz_content. */
let calls: { method: string; params: Params; biz: Record<string, unknown>; url: URL }[] = []
/** Replies by method; a function for sequences. */
let replies: Record<string, () => Promise<string | Response> | string | Response> = {}

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  calls = []
  replies = {}
})
afterAll(() => server.close())

server.use()
const gatewayHandler = http.post(GATEWAY, async ({ request }) => {
  const url = new URL(request.url)
  const params = { ...decodeForm(url.search), ...decodeForm(await request.text()) }
  const method = params['method'] ?? ''
  calls.push({ method, params, biz: JSON.parse(params['biz_content'] ?? '{}') as Record<string, unknown>, url })
  const reply = replies[method]
  if (!reply) return HttpResponse.text(`no reply scripted for ${method}`, { status: 500 })
  const body = await reply()
  return body instanceof Response
    ? body
    : new HttpResponse(body, { headers: { 'content-type': 'application/json;charset=utf-8' } })
})

const tmp = tempDir('alipay-openapi-')
let dbCount = 0

/** An order service on the openapi gateway (msw), its store and its onPaid calls. */
function openapiService(timeoutMs = 500): { orders: OrderService; store: OrderStore; paid: PaidVia[] } {
  server.use(gatewayHandler)
  const store = openSqliteOrderStore(`${tmp.dir}/orders-${++dbCount}.db`)
  const paid: PaidVia[] = []
  const orders = createOrderService({
    store,
    gateway: createPaymentGateway({
      kind: 'openapi',
      gatewayUrl: GATEWAY,
      fetch: viaMsw,
      appId: APP_ID,
      privateKey: APP.privateKey,
      publicKey: ALIPAY.publicKey,
      sellerId: SELLER_ID,
      timeoutMs,
    }),
    notifyUrl: 'http://shop.test/notify',
    returnUrl: 'http://shop.test/return',
    showUrl: 'http://shop.test/',
    onPaid: (_order, via) => void paid.push(via),
  })
  return { orders, store, paid }
}

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) =>
      e instanceof OrderError
        ? `${e.code}${e.details['gatewayCode'] ? `:${String(e.details['gatewayCode'])}` : ''}`
        : String(e),
  )

const paidTrade = (orderId: string, amount = '9.90', extra: Record<string, unknown> = {}) => ({
  trade_no: '2024050122001400001000000001',
  out_trade_no: orderId,
  buyer_logon_id: '159****5620',
  trade_status: 'TRADE_SUCCESS',
  total_amount: amount,
  send_pay_date: '2024-05-01 12:00:04',
  // `/` inside strings travels as `\/`; the signature covers the backslashes.
  store_name: 'Shop/Store A',
  fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount }],
  ...extra,
})

/** A notification as the gateway signs it (openapi-protocol §6). */
function notification(orderId: string, overrides: Params = {}): Promise<Params> {
  return signOpenapiNotify(
    {
      notify_time: '2024-05-01 12:00:06',
      notify_type: 'trade_status_sync',
      notify_id: `2024050100222120006${String(Math.floor(Math.random() * 1e15)).padStart(15, '0')}`,
      app_id: APP_ID,
      charset: 'utf-8',
      version: '1.0',
      trade_no: '2024050122001400001000000001',
      out_trade_no: orderId,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '9.90',
      receipt_amount: '9.90',
      seller_id: SELLER_ID,
      gmt_payment: '2024-05-01 12:00:04',
      fund_bill_list: '[{"amount":"9.90","fundChannel":"ALIPAYACCOUNT"}]',
      ...overrides,
    },
    ALIPAY.privateKey,
  )
}

describe('the openapi gateway behind the order service (msw)', () => {
  it('precreates a QR order: signed POST with sign_type in the string, qr_code as payUrl', async () => {
    const { orders, store } = openapiService()
    const order = await orders.create('测试商品 a/b=c', '9.9')
    replies['alipay.trade.precreate'] = () =>
      okReply('alipay.trade.precreate', { out_trade_no: order.orderId, qr_code: 'https://qr.alipay.com/bax0123' })
    const result = await orders.getPayUrl(order.orderId, 'PRE_PAY')
    expect(result.payUrl).toBe('https://qr.alipay.com/bax0123')
    expect(result.qrCode).toMatch(/^data:image\/png;base64,/)
    expect(calls).toHaveLength(1)
    const call = calls[0]!
    expect(call.url.search).toBe('?charset=utf-8')
    expect(call.params).toMatchObject({
      app_id: APP_ID,
      method: 'alipay.trade.precreate',
      charset: 'utf-8',
      format: 'JSON',
      sign_type: 'RSA2',
      version: '1.0',
      notify_url: 'http://shop.test/notify',
    })
    expect(call.params['timestamp']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(call.params['return_url']).toBeUndefined()
    expect((await verifyOpenapiRequest(call.params, APP.publicKey)).ok).toBe(true)
    expect(call.biz).toEqual({
      out_trade_no: order.orderId,
      total_amount: '9.90',
      subject: '测试商品 a b c',
      product_code: 'FACE_TO_FACE_PAYMENT',
    })
    expect((await store.get(order.orderId))?.payChannel).toBe('precreate')
  })

  it('signs page.pay and wap.pay locally, as a GET link and a POST form, without calling the gateway', async () => {
    const { orders } = openapiService()
    const order = await orders.create('VIP', '99.99')
    const pc = await orders.getPayUrl(order.orderId, 'pc')
    expect(pc.payUrl.startsWith(`${GATEWAY}?`)).toBe(true)
    const params = decodeForm(new URL(pc.payUrl).search)
    expect(params).toMatchObject({ method: 'alipay.trade.page.pay', return_url: 'http://shop.test/return' })
    expect(JSON.parse(params['biz_content']!)).toMatchObject({
      product_code: 'FAST_INSTANT_TRADE_PAY',
      total_amount: '99.99',
    })
    expect((await verifyOpenapiRequest(params, APP.publicKey)).ok).toBe(true)

    const wap = await orders.getPayUrl(order.orderId, 'WAP_PAY')
    expect(wap.form).toContain(`action="${GATEWAY}?charset=utf-8"`)
    expect(wap.form).toContain('method="post"')
    expect(wap.form).toContain('value="alipay.trade.wap.pay"')
    // biz_content's quotes are escaped in the attribute; the browser sends the signed text back.
    expect(wap.form).toContain('&quot;product_code&quot;:&quot;QUICK_WAP_WAY&quot;')
    expect(wap.form).toContain('&quot;quit_url&quot;:&quot;http://shop.test/&quot;')
    expect(calls).toEqual([])
  })

  it('marks an order paid from a verified query once, over the raw text with its \\/ escapes', async () => {
    const { orders, store, paid } = openapiService()
    const order = await orders.create('x', '9.90')
    replies[QUERY] = () => failReply(QUERY, 'ACQ.TRADE_NOT_EXIST')
    expect(await orders.checkThird((await store.get(order.orderId))!)).toEqual({})
    expect((await orders.check(order.orderId)).status).toBe('wait')

    replies[QUERY] = () => okReply(QUERY, paidTrade(order.orderId))
    const checked = await orders.check(order.orderId)
    expect(checked).toMatchObject({
      status: 'success',
      tradeStatus: 'TRADE_SUCCESS',
      tradeNo: '2024050122001400001000000001',
      payTime: '2024-05-01 12:00:04',
    })
    expect(calls.at(-1)?.biz).toEqual({ out_trade_no: order.orderId })
    await orders.check(order.orderId)
    // Once paid, the query names the trade_no too.
    expect(calls.at(-1)?.biz).toEqual({ out_trade_no: order.orderId, trade_no: '2024050122001400001000000001' })
    expect(paid).toEqual(['check'])
  })

  it('refuses replies it cannot trust: wrong key, missing sign on a success, malformed; reports unsigned errors', async () => {
    const { orders } = openapiService()
    const order = await orders.create('x', '9.90')
    replies[QUERY] = () => okReply(QUERY, paidTrade(order.orderId), { privateKey: APP.privateKey })
    expect(await code(orders.check(order.orderId))).toBe('GATEWAY_ERROR')
    replies[QUERY] = () => okReply(QUERY, paidTrade(order.orderId), { sign: null })
    expect(await code(orders.check(order.orderId))).toBe('GATEWAY_ERROR')
    replies[QUERY] = () => '{"alipay_trade_query_response":{"code":"10000"'
    expect(await code(orders.check(order.orderId))).toBe('GATEWAY_ERROR')
    replies[QUERY] = () =>
      openapiReply(
        QUERY,
        { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature', sub_msg: '验签出错' },
        { member: 'error_response', sign: null },
      )
    expect(await code(orders.check(order.orderId))).toBe('GATEWAY_ERROR:isv.invalid-signature')
    expect((await orders.query(order.orderId)).status).toBe('wait')

    const client = createOpenapiClient({
      gatewayUrl: GATEWAY,
      fetch: viaMsw,
      appId: APP_ID,
      privateKey: APP.privateKey,
      publicKey: ALIPAY.publicKey,
    })
    replies[QUERY] = () => okReply(QUERY, paidTrade(order.orderId), { privateKey: APP.privateKey })
    const wrongKey = await client.call(QUERY, { out_trade_no: order.orderId }).catch((e: unknown) => e)
    expect(wrongKey).toBeInstanceOf(GatewayError)
    expect((wrongKey as GatewayError).code).toBe('GATEWAY_BAD_SIGNATURE')
    replies[QUERY] = () => failReply(QUERY, 'ACQ.SYSTEM_ERROR')
    expect(await client.call(QUERY, { out_trade_no: order.orderId })).toMatchObject({
      ok: false,
      code: '40004',
      subCode: 'ACQ.SYSTEM_ERROR',
      signed: true,
    })
  })

  it('gives up on a gateway that does not answer in time, with a retryable error', async () => {
    const { orders } = openapiService(100)
    const order = await orders.create('x', '9.90')
    replies[QUERY] = async () => {
      await delay(400)
      return okReply(QUERY, paidTrade(order.orderId))
    }
    const error = await orders.check(order.orderId).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OrderError)
    expect((error as OrderError).details).toMatchObject({ reason: 'GATEWAY_TIMEOUT', retryable: true })
    replies[QUERY] = () => new HttpResponse('busy', { status: 502 })
    expect(await code(orders.check(order.orderId))).toBe('GATEWAY_ERROR')
  })

  it('cancels page orders with close (no trade yet counts as closed) and QR orders with cancel', async () => {
    const { orders } = openapiService()
    const page = await orders.create('x', '1.00')
    await orders.getPayUrl(page.orderId, 'pc')
    replies['alipay.trade.close'] = () => failReply('alipay.trade.close', 'ACQ.TRADE_NOT_EXIST')
    expect((await orders.cancel(page.orderId)).status).toBe('close')
    expect(calls.map((c) => c.method)).toEqual(['alipay.trade.close'])

    calls = []
    const qr = await orders.create('x', '1.00')
    replies['alipay.trade.precreate'] = () => okReply('alipay.trade.precreate', { qr_code: 'https://qr.alipay.com/x' })
    await orders.getPayUrl(qr.orderId, 'PRE_PAY')
    // Handing out a page link afterwards does not turn it back into a "close" order.
    await orders.getPayUrl(qr.orderId, 'pc')
    let attempts = 0
    replies['alipay.trade.cancel'] = () =>
      okReply('alipay.trade.cancel', {
        retry_flag: ++attempts < 2 ? 'Y' : 'N',
        action: 'close',
        out_trade_no: qr.orderId,
      })
    expect((await orders.cancel(qr.orderId)).status).toBe('close')
    expect(calls.map((c) => c.method)).toEqual(['alipay.trade.precreate', 'alipay.trade.cancel', 'alipay.trade.cancel'])

    const paidMeanwhile = await orders.create('x', '9.90')
    replies['alipay.trade.close'] = () => failReply('alipay.trade.close', 'ACQ.TRADE_STATUS_ERROR')
    replies[QUERY] = () => okReply(QUERY, paidTrade(paidMeanwhile.orderId))
    expect(await code(orders.cancel(paidMeanwhile.orderId))).toBe('ORDER_STATE_CONFLICT')
    expect((await orders.query(paidMeanwhile.orderId)).status).toBe('success')
  })

  it('refunds with out_request_no reused on retry, checks fund_change, and never refunds twice', async () => {
    const { orders } = openapiService()
    const order = await orders.create('x', '9.90')
    replies[QUERY] = () => okReply(QUERY, paidTrade(order.orderId))
    await orders.check(order.orderId)

    replies['alipay.trade.refund'] = () => okReply('alipay.trade.refund', { fund_change: 'Y', refund_fee: '1.00' })
    const first = await orders.refund(order.orderId, '1.00', '协商退款')
    expect(first).toMatchObject({ amount: '1.00', state: 'success' })
    expect(calls.at(-1)?.biz).toMatchObject({
      out_trade_no: order.orderId,
      trade_no: '2024050122001400001000000001',
      refund_amount: '1.00',
      out_request_no: first.batchNo,
      refund_reason: '协商退款',
    })

    // The gateway is busy: the refund stays reserved (pending) and the error names its number.
    replies['alipay.trade.refund'] = () => failReply('alipay.trade.refund', 'ACQ.SYSTEM_ERROR')
    const busy = (await orders.refund(order.orderId, '2.00', 'r').then(
      () => undefined,
      (e: unknown) => e,
    )) as OrderError
    expect(busy).toBeInstanceOf(OrderError)
    expect(busy.details).toMatchObject({ gatewayCode: 'ACQ.SYSTEM_ERROR', retryable: true })
    const refundNo = String(busy.details['refundNo'])
    expect((await orders.query(order.orderId)).refunded).toBe('3.00')
    expect((await orders.refunds(order.orderId)).find((r) => r.batchNo === refundNo)?.state).toBe('pending')

    // Retried with the same number: the gateway says it moved nothing now; the refund query says done.
    replies['alipay.trade.refund'] = () => okReply('alipay.trade.refund', { fund_change: 'N', refund_fee: '3.00' })
    replies['alipay.trade.fastpay.refund.query'] = () =>
      okReply('alipay.trade.fastpay.refund.query', {
        out_request_no: refundNo,
        refund_amount: '2.00',
        refund_status: 'REFUND_SUCCESS',
      })
    calls = []
    const retried = await orders.refund(order.orderId, '2.00', 'r', refundNo)
    expect(retried).toMatchObject({ batchNo: refundNo, state: 'success', amount: '2.00' })
    expect(calls.map((c) => [c.method, c.biz['out_request_no']])).toEqual([
      ['alipay.trade.refund', refundNo],
      ['alipay.trade.fastpay.refund.query', refundNo],
    ])
    expect((await orders.query(order.orderId)).refunded).toBe('3.00')
    // Settled: asking again answers from the store, without a gateway call.
    calls = []
    expect(await orders.refund(order.orderId, '2.00', 'r', refundNo)).toMatchObject({ state: 'success' })
    expect(calls).toEqual([])
    expect(await code(orders.refund(order.orderId, '2.50', 'r', refundNo))).toBe('REFUND_CONFLICT')

    replies['alipay.trade.refund'] = () => failReply('alipay.trade.refund', 'ACQ.TRADE_NOT_ALLOW_REFUND')
    expect(await code(orders.refund(order.orderId, '1.00', 'r'))).toBe('REFUND_REFUSED:ACQ.TRADE_NOT_ALLOW_REFUND')
    expect((await orders.query(order.orderId)).refunded).toBe('3.00')
  })

  it('accepts a verified notify once, checking total_amount, app_id and seller', async () => {
    const { orders, paid } = openapiService()
    const order = await orders.create('x', '9.90')
    const good = await notification(order.orderId)
    expect(await orders.notify({ ...good, total_amount: '0.01' })).toMatchObject({
      ack: 'fail',
      code: 'INVALID_SIGNATURE',
    })
    expect(await orders.notify(await notification(order.orderId, { total_amount: '0.01' }))).toMatchObject({
      ack: 'success',
      outcome: 'rejected',
      code: 'AMOUNT_MISMATCH',
    })
    expect(await orders.notify(await notification(order.orderId, { app_id: '2021000000000001' }))).toMatchObject({
      outcome: 'rejected',
      code: 'APP_ID_MISMATCH',
    })
    expect(await orders.notify(await notification(order.orderId, { seller_id: '2088000000000001' }))).toMatchObject({
      outcome: 'rejected',
      code: 'SELLER_MISMATCH',
    })
    // Signed by the app's own key, not Alipay's: refused.
    const forged = await signOpenapiNotify({ ...good, sign: '' }, APP.privateKey)
    expect(await orders.notify(forged)).toMatchObject({ ack: 'fail', code: 'INVALID_SIGNATURE' })
    expect((await orders.query(order.orderId)).status).toBe('wait')

    expect(await orders.notify(good)).toMatchObject({ ack: 'success', outcome: 'paid' })
    expect(await orders.notify(good)).toMatchObject({ ack: 'success', outcome: 'duplicate' })
    expect(await orders.notify(await notification(order.orderId, { trade_status: 'TRADE_FINISHED' }))).toMatchObject({
      outcome: 'updated',
    })
    expect(await orders.query(order.orderId)).toMatchObject({ status: 'success', tradeStatus: 'TRADE_FINISHED' })
    expect(paid).toEqual(['notify'])
    // No notify_verify on openapi: the signature was the proof, the gateway was never asked.
    expect(calls).toEqual([])
  })

  it('settles a refund from its notification (out_biz_no)', async () => {
    const { orders } = openapiService()
    const order = await orders.create('x', '9.90')
    await orders.notify(await notification(order.orderId))
    replies['alipay.trade.refund'] = () => okReply('alipay.trade.refund', { fund_change: 'N' })
    replies['alipay.trade.fastpay.refund.query'] = () => okReply('alipay.trade.fastpay.refund.query', {})
    const refund = await orders.refund(order.orderId, '1.00', 'r')
    expect(refund.state).toBe('submitted')
    const refundNotify = await notification(order.orderId, {
      refund_fee: '1.00',
      gmt_refund: '2024-05-01 13:00:00.123',
      out_biz_no: refund.batchNo,
    })
    expect(await orders.notify(refundNotify)).toMatchObject({ ack: 'success', outcome: 'updated' })
    expect((await orders.refunds(order.orderId))[0]).toMatchObject({ batchNo: refund.batchNo, state: 'success' })
  })

  it('confirms a browser return (no trade_status) only with the gateway query, and signs PaymentRequest data with the app key', async () => {
    const { orders, paid } = openapiService()
    const order = await orders.create('x', '9.90')
    const ret = await signReturn({
      charset: 'utf-8',
      out_trade_no: order.orderId,
      method: 'alipay.trade.page.pay.return',
      total_amount: '9.90',
      trade_no: '2024050122001400001000000001',
      auth_app_id: APP_ID,
      version: '1.0',
      app_id: APP_ID,
      seller_id: SELLER_ID,
      timestamp: '2024-05-01 12:00:05',
    })
    const details = { ...ret, success: 'true' }
    replies[QUERY] = () => failReply(QUERY, 'ACQ.TRADE_NOT_EXIST')
    expect(await code(orders.confirm(order.orderId, details))).toBe('PAYMENT_NOT_CONFIRMED')
    replies[QUERY] = () => okReply(QUERY, paidTrade(order.orderId))
    expect(await orders.confirm(order.orderId, details)).toMatchObject({
      status: 'success',
      payTime: '2024-05-01 12:00:04',
    })
    expect(await code(orders.confirm(order.orderId, { ...details, total_amount: '0.01' }))).toBe('INVALID_SIGNATURE')
    expect(paid).toEqual(['confirm'])
    const other = await orders.create('x', '1.00')
    // The spec's dictionary under the mapi string rule, RSA2 with the app key (docs/decisions/0003).
    const { data, total } = await orders.paymentData(other.orderId)
    expect(total).toEqual({ currency: 'CNY', value: '1.00' })
    expect(data).toMatchObject({ partner: SELLER_ID, seller_id: SELLER_ID, total_fee: '1.00', sign_type: 'RSA2' })
    expect(await verifyParams(data, { keys: { publicKey: APP.publicKey } })).toMatchObject({ ok: true })
    expect(await verifyParams(data, { keys: { publicKey: ALIPAY.publicKey } })).toMatchObject({ ok: false })
  })

  it('has no PaymentRequest data when no partner name is configured', async () => {
    server.use(gatewayHandler)
    const orders = createOrderService({
      store: openSqliteOrderStore(`${tmp.dir}/orders-${++dbCount}.db`),
      gateway: createPaymentGateway({
        kind: 'openapi',
        gatewayUrl: GATEWAY,
        fetch: viaMsw,
        appId: APP_ID,
        privateKey: APP.privateKey,
        publicKey: ALIPAY.publicKey,
      }),
      notifyUrl: 'http://shop.test/notify',
    })
    const order = await orders.create('x', '1.00')
    expect(await code(orders.paymentData(order.orderId))).toBe('NOT_SUPPORTED_BY_GATEWAY')
  })
})

/**
 * A return as the gateway signs it: sign and sign_type left out of the string (openapi-protocol §7), although
 * it carries `method` (protocol's signOpenapiNotify would keep sign_type for that shape).
 */
async function signReturn(params: Params): Promise<Params> {
  const sign = await signString(stringToSign(params, ['sign', 'sign_type']), 'RSA2', { privateKey: ALIPAY.privateKey })
  return { ...params, sign_type: 'RSA2', sign }
}
