import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeForm,
  renderGatewayReply,
  signParams,
  stringToSign,
  md5Sign,
  type Params,
} from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { GatewayError } from './gateway-error.js'
import { createMapiClient } from './mapi-client.js'
import { MERCHANT_RING } from '../../../tests/support/harness.js'

/** msw sees the global fetch, not undici's own sockets: the components call the gateway through it here. */
const viaMsw: typeof fetch = (input, init) => globalThis.fetch(input, init)

const GATEWAY = 'http://gateway.test/gateway.do'
const TRADE: Params = {
  out_trade_no: 'D20240501120000000001',
  trade_no: '2024050121001004330200123456',
  trade_status: 'TRADE_SUCCESS',
  total_fee: '0.01',
  seller_id: DEMO_PARTNER.sellerId,
}
const server = setupServer()
let seen: Params[] = []

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  seen = []
})
afterAll(() => server.close())

const client = (timeoutMs = 2000) =>
  createMapiClient({
    gatewayUrl: GATEWAY,
    partner: DEMO_PARTNER.partner,
    keys: MERCHANT_RING,
    signType: 'MD5',
    timeoutMs,
    fetch: viaMsw,
  })

function answer(body: string | (() => Promise<Response> | Response)) {
  server.use(
    http.get(GATEWAY, async ({ request }) => {
      seen.push(decodeForm(new URL(request.url).search))
      return typeof body === 'string' ? new HttpResponse(body, { headers: { 'content-type': 'text/xml' } }) : body()
    }),
  )
}

const tradeReply = (key: string) =>
  renderGatewayReply({ isSuccess: true, trade: TRADE, sign: md5Sign(stringToSign(TRADE), key), signType: 'MD5' })

describe('the mapi gateway client', () => {
  it('signs single_trade_query and verifies the reply over the <trade> children', async () => {
    answer(tradeReply(DEMO_PARTNER.md5Key))
    const result = await client().singleTradeQuery({ outTradeNo: TRADE['out_trade_no'] })
    expect(result).toEqual({ found: true, trade: TRADE })
    const request = seen[0]!
    expect(request).toMatchObject({
      service: 'single_trade_query',
      out_trade_no: TRADE['out_trade_no'],
      sign_type: 'MD5',
    })
    const resigned = await signParams(request, { signType: 'MD5', keys: MERCHANT_RING })
    expect(request['sign']).toBe(resigned['sign'])
  })

  it('reports TRADE_NOT_EXIST as not found, and other refusals as GATEWAY_REFUSED', async () => {
    answer(renderGatewayReply({ isSuccess: false, error: 'TRADE_NOT_EXIST' }))
    expect(await client().singleTradeQuery({ tradeNo: '2024050121001004330200123456' })).toEqual({ found: false })
    expect(seen[0]).toHaveProperty('trade_no')
    server.resetHandlers()
    answer(renderGatewayReply({ isSuccess: false, error: 'ILLEGAL_SIGN' }))
    await expect(client().singleTradeQuery({ outTradeNo: 'x' })).rejects.toMatchObject({
      code: 'GATEWAY_REFUSED',
      gatewayCode: 'ILLEGAL_SIGN',
    })
  })

  it('refuses a query reply signed with the wrong key', async () => {
    answer(tradeReply('wrongwrongwrongwrongwrongwrong00'))
    await expect(client().singleTradeQuery({ outTradeNo: 'x' })).rejects.toMatchObject({
      code: 'GATEWAY_BAD_SIGNATURE',
    })
  })

  it('turns malformed XML into GATEWAY_MALFORMED_REPLY', async () => {
    answer('<?xml version="1.0"?><alipay><is_success>T</is_su')
    await expect(client().closeTrade({ outTradeNo: 'x' })).rejects.toMatchObject({ code: 'GATEWAY_MALFORMED_REPLY' })
  })

  it('turns a 5xx into a retryable GATEWAY_UNAVAILABLE', async () => {
    answer(() => new HttpResponse('busy', { status: 503 }))
    const error = await client()
      .notifyVerify('abc')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatewayError)
    expect(error).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', httpStatus: 503, retryable: true })
  })

  it('gives up after its timeout with GATEWAY_TIMEOUT', async () => {
    // The gateway answers only once the client gave up, so no slow machine can let the answer win.
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    answer(async () => {
      await held
      return new HttpResponse('true')
    })
    const started = Date.now()
    try {
      await expect(client(100).notifyVerify('abc')).rejects.toMatchObject({ code: 'GATEWAY_TIMEOUT' })
    } finally {
      release()
    }
    // Its own 100 ms, not the 10 s default.
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('sends notify_verify unsigned, keeping a once-decoded notify_id intact', async () => {
    answer('true')
    expect(await client().notifyVerify('RqPn%2Fvwbh%2BaYc')).toBe('true')
    expect(seen[0]).toEqual({ service: 'notify_verify', partner: DEMO_PARTNER.partner, notify_id: 'RqPn%2Fvwbh%2BaYc' })
    server.resetHandlers()
    answer('<html>firewall</html>')
    await expect(client().notifyVerify('x')).rejects.toMatchObject({ code: 'GATEWAY_MALFORMED_REPLY' })
  })

  it('closes by trade_no when known, else by out_order_no, and reports refusals', async () => {
    answer(renderGatewayReply({ isSuccess: false, error: 'TRADE_STATUS_NOT_AVAILD' }))
    expect(await client().closeTrade({ outTradeNo: 'D1' })).toEqual({ closed: false, error: 'TRADE_STATUS_NOT_AVAILD' })
    expect(seen[0]).toMatchObject({ service: 'close_trade', out_order_no: 'D1' })
    expect(seen[0]).not.toHaveProperty('trade_no')
  })

  it('builds a refund batch in the mapi shape', async () => {
    answer(renderGatewayReply({ isSuccess: true }))
    expect(
      await client().refund({
        batchNo: '20240502001',
        tradeNo: TRADE['trade_no']!,
        amount: '0.01',
        reason: '协商退款',
      }),
    ).toEqual({ accepted: true })
    expect(seen[0]).toMatchObject({
      service: 'refund_fastpay_by_platform_nopwd',
      batch_num: '1',
      detail_data: `${TRADE['trade_no']}^0.01^协商退款`,
      seller_user_id: DEMO_PARTNER.partner,
    })
  })

  it('builds a pay request as a URL and an equivalent form, and only for the web services', async () => {
    const request = await client().buildPayRequest({
      service: 'create_direct_pay_by_user',
      out_trade_no: 'D1',
      subject: 's',
      payment_type: '1',
      total_fee: '1.00',
    })
    expect(decodeForm(new URL(request.url).search)).toEqual(request.form.fields)
    expect(request.form.action).toBe(`${GATEWAY}?_input_charset=utf-8`)
    await expect(client().buildPayRequest({ service: 'mobile.securitypay.pay' })).rejects.toThrow(RangeError)
  })
})
