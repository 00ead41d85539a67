import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signParams, type Params } from '@alipay-payment-handler/protocol'
import { createSigningServer, type SigningServer } from '@alipay-payment-handler/payment-app'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { demoPartnerConfig } from '../support/demo-partners.js'
import { tempDir } from '../support/harness.js'

/**
 * Tenants of one payment app: partner X (the demo partner) and partner Y, each with its own MD5
 * key, seller and merchant origin. The gateway is msw here: it only has to answer notify_verify.
 */
const GATEWAY = 'http://gateway.test/gateway.do'
const BASE = 'http://pay.test'
const X_ORIGIN = 'http://x-shop.test'
const Y = { partner: '2088101122136999', sellerId: '2088101122136999', md5Key: 'tenant0y0md5key0for0tests0000001' }
const Y_ORIGIN = 'http://y-shop.test'
const gateway = setupServer(http.get(GATEWAY, () => new HttpResponse('true')))
const tmp = tempDir()
let server: SigningServer

beforeAll(async () => {
  gateway.listen({ onUnhandledRequest: 'error' })
  server = await createSigningServer({
    publicOrigin: BASE,
    gatewayUrl: GATEWAY,
    partners: [
      demoPartnerConfig({ allowedOrigins: [X_ORIGIN] }),
      { partner: Y.partner, sellerId: Y.sellerId, md5Key: Y.md5Key, signType: 'MD5', allowedOrigins: [Y_ORIGIN] },
    ],
    dbPath: `${tmp.dir}/signing.db`,
    logger: silentLogger(),
    rateLimits: false,
  })
})
afterAll(async () => {
  gateway.close()
  await server.close()
  tmp.cleanup()
})

const call = (path: string, init: RequestInit) => server.app.fetch(new Request(`${BASE}${path}`, init))

async function openSession(partner: string, md5Key: string, origin: string, outTradeNo: string): Promise<string> {
  const data = await signParams(
    {
      service: 'mobile.securitypay.pay',
      partner,
      _input_charset: 'utf-8',
      notify_url: `${origin}/api/notify`,
      out_trade_no: outTradeNo,
      subject: 'tea',
      payment_type: '1',
      total_fee: '10.00',
    },
    { signType: 'MD5', keys: { md5Key } },
  )
  const response = await call('/api/sessions', {
    method: 'POST',
    // As the checkout window sends it: state changes come from the payment app's own origin only.
    headers: { 'content-type': 'application/json', origin: BASE },
    body: JSON.stringify({
      paymentRequestId: `pr-${outTradeNo}`,
      merchantOrigin: origin,
      methodData: data,
      total: { currency: 'CNY', value: '10.00' },
    }),
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { sessionId: string }).sessionId
}

/** Y's genuine notify, as the gateway signs it with Y's key. */
async function yNotify(outTradeNo: string): Promise<string> {
  const params: Params = await signParams(
    {
      notify_time: '2024-05-01 12:00:06',
      notify_type: 'trade_status_sync',
      notify_id: `n${Math.random().toString(36).slice(2)}`,
      out_trade_no: outTradeNo,
      trade_no: '2024050121001004330200999999',
      trade_status: 'WAIT_BUYER_PAY',
      total_fee: '10.00',
      seller_id: Y.sellerId,
    },
    { signType: 'MD5', keys: { md5Key: Y.md5Key } },
  )
  return new URLSearchParams(params).toString()
}

describe('tenant isolation', () => {
  it('rule: notifies are matched by the partner they name, never by order number alone', async () => {
    const order = 'SHARED-ORDER-1'
    // Y opens its session first; then X opens one with Y's order number (X's own data, X's key).
    await openSession(Y.partner, Y.md5Key, Y_ORIGIN, order)
    const xSession = await openSession(DEMO_PARTNER.partner, DEMO_PARTNER.md5Key, X_ORIGIN, order)
    const form = await yNotify(order)
    const notifyId = new URLSearchParams(form).get('notify_id')!
    const answer = await call('/notify/mapi', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    // Y's genuine notify is Y's: verified with Y's key, stored for Y, acknowledged; not refused under X's.
    expect(answer.status).toBe(200)
    expect(await answer.text()).toBe('success')
    expect(await server.store.countNotifies(Y.partner, notifyId)).toBe(1)
    expect(await server.store.countNotifies(DEMO_PARTNER.partner, notifyId)).toBe(0)
    // X's session with the same order number was never consulted.
    expect((await server.store.latestSession(DEMO_PARTNER.partner, order))?.id).toBe(xSession)
  })
})
