import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { decodeForm, verifyOpenapiAppOrderString, type Params } from '@alipay-payment-handler/protocol'
import { DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA } from '@alipay-payment-handler/sandbox/testing'
import { okReply, openapiReply } from '../../../tests/support/openapi-replies.js'
import { createOpenapiCounter } from './openapi-barcode.js'
import { createOpenapiClient } from './openapi-client.js'

const GATEWAY = 'http://openapi.test/gateway.do'
const PAY = 'alipay.trade.pay'
const order = { orderId: 'C1', subject: 'counter', amount: '1.00' }

const server = setupServer()
let seen: Params[] = []
let reply: () => Promise<Response | string> | Response | string = () => ''

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  seen = []
  server.resetHandlers()
})
afterAll(() => server.close())

function counter(timeoutMs = 500) {
  server.use(
    http.post(GATEWAY, async ({ request }) => {
      seen.push({ ...decodeForm(new URL(request.url).search), ...decodeForm(await request.text()) })
      const body = await reply()
      return body instanceof Response
        ? body
        : new HttpResponse(body, { headers: { 'content-type': 'application/json;charset=utf-8' } })
    }),
  )
  return createOpenapiCounter(
    createOpenapiClient({
      gatewayUrl: GATEWAY,
      appId: '2021000122671080',
      privateKey: DEMO_MERCHANT_RSA.privateKey,
      publicKey: DEMO_GATEWAY_RSA.publicKey,
      timeoutMs,
      // msw answers through the global fetch; the default client (undici) has sockets of its own.
      fetch: (input, init) => globalThis.fetch(input, init),
    }),
  )
}

describe('barcode pay replies (openapi-protocol §14.1)', () => {
  it('sends scene=bar_code, the auth_code and FACE_TO_FACE_PAYMENT; 10000 is paid', async () => {
    reply = () => okReply(PAY, { trade_no: '2026', out_trade_no: 'C1', total_amount: '1.00' })
    const result = await counter().payWithCode({ order, authCode: '281000000000000001', notifyUrl: 'http://n.test/' })
    expect(result).toMatchObject({ kind: 'paid', trade: { tradeNo: '2026', amount: '1.00' } })
    expect(JSON.parse(seen[0]!['biz_content']!)).toMatchObject({
      scene: 'bar_code',
      auth_code: '281000000000000001',
      product_code: 'FACE_TO_FACE_PAYMENT',
    })
    expect(seen[0]!['notify_url']).toBe('http://n.test/')
  })

  it('10003 is waiting; 20000, a 502, a timeout and a bad signature are unknown; 40004 is failed', async () => {
    const desk = counter(200)
    reply = () => openapiReply(PAY, { code: '10003', msg: 'order success pay inprocess', out_trade_no: 'C1' })
    expect(await desk.payWithCode({ order, authCode: '1' })).toMatchObject({
      kind: 'waiting',
      trade: { status: 'WAIT_BUYER_PAY' },
    })
    reply = () =>
      openapiReply(PAY, { code: '20000', msg: 'Service Currently Unavailable', sub_code: 'ACQ.SYSTEM_ERROR' })
    expect(await desk.payWithCode({ order, authCode: '1' })).toEqual({ kind: 'unknown', reason: 'ACQ.SYSTEM_ERROR' })
    reply = () => new HttpResponse('bad gateway', { status: 502 })
    expect(await desk.payWithCode({ order, authCode: '1' })).toEqual({ kind: 'unknown', reason: 'GATEWAY_UNAVAILABLE' })
    reply = () => new Promise(() => undefined)
    expect(await desk.payWithCode({ order, authCode: '1' })).toEqual({ kind: 'unknown', reason: 'GATEWAY_TIMEOUT' })
    reply = () => okReply(PAY, { out_trade_no: 'C1' }, { privateKey: DEMO_MERCHANT_RSA.privateKey })
    expect(await desk.payWithCode({ order, authCode: '1' })).toEqual({
      kind: 'unknown',
      reason: 'GATEWAY_BAD_SIGNATURE',
    })
    reply = () =>
      openapiReply(PAY, {
        code: '40004',
        msg: 'Business Failed',
        sub_code: 'ACQ.PAYMENT_AUTH_CODE_INVALID',
        sub_msg: 'x',
      })
    expect(await desk.payWithCode({ order, authCode: '1' })).toEqual({
      kind: 'failed',
      code: '40004',
      subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID',
      subMsg: 'x',
    })
    // An unsigned "success" is never taken as paid.
    reply = () => okReply(PAY, { out_trade_no: 'C1' }, { sign: null })
    expect((await desk.payWithCode({ order, authCode: '1' })).kind).toBe('unknown')
  })
})

describe('trade.create and app pay (openapi-protocol §14.2, openapi-protocol §14.3)', () => {
  it('create answers the trade_no and refuses without one', async () => {
    const desk = counter()
    reply = () => okReply('alipay.trade.create', { out_trade_no: 'C1', trade_no: '2026X' })
    expect(await desk.createTrade({ order, buyerId: '2088102146225135' })).toEqual({ tradeNo: '2026X' })
    expect(JSON.parse(seen[0]!['biz_content']!)).toMatchObject({ buyer_id: '2088102146225135' })
    reply = () => okReply('alipay.trade.create', { out_trade_no: 'C1' })
    await expect(desk.createTrade({ order })).rejects.toMatchObject({ code: 'GATEWAY_MALFORMED_REPLY' })
  })

  it('the app pay order string is signed by the request rule and never sent', async () => {
    const text = await counter().appPayOrderString({ order, notifyUrl: 'http://n.test/', timeout: '30m' })
    expect(seen).toHaveLength(0)
    const { params, verified } = await verifyOpenapiAppOrderString(text, DEMO_MERCHANT_RSA.publicKey)
    expect(verified.ok).toBe(true)
    expect(params).toMatchObject({ method: 'alipay.trade.app.pay', notify_url: 'http://n.test/' })
    expect(JSON.parse(params['biz_content']!)).toMatchObject({
      out_trade_no: 'C1',
      product_code: 'QUICK_MSECURITY_PAY',
      timeout_express: '30m',
    })
  })
})
