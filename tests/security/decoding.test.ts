import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeNotify, encodeForm, signParams, type Params } from '@alipay-payment-handler/protocol'
import { createSigningServer, type SigningServer } from '@alipay-payment-handler/payment-app'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { demoPartnerConfig } from '../support/demo-partners.js'
import { tempDir } from '../support/harness.js'
import { merchantOrder, payOrder, startSecurityStack, type SecurityStack } from './support/stack.js'

/** msw sees the global fetch, not undici's own sockets: the components call the gateway through it here. */
const viaMsw: typeof fetch = (input, init) => globalThis.fetch(input, init)

/**
 * One decoder for every receiver: a GBK notify (Chinese subject, signed over its GBK bytes) is
 * verified and acknowledged alike by the relay and by the shop, which decode it with protocol's
 * decodeNotify in the charset its Content-Type declares.
 */
const GATEWAY = 'http://gateway.test/gateway.do'
const GBK = 'application/x-www-form-urlencoded; charset=GBK'
// The relay's gateway is msw (notify_verify "true"); the stack's own loopback traffic passes through.
const gateway = setupServer(http.get(GATEWAY, () => new HttpResponse('true')))
const tmp = tempDir()
let relay: SigningServer
let stack: SecurityStack

beforeAll(async () => {
  gateway.listen({ onUnhandledRequest: 'bypass' })
  stack = await startSecurityStack()
  relay = await createSigningServer({
    fetch: viaMsw,
    publicOrigin: 'http://pay.test',
    gatewayUrl: GATEWAY,
    partners: [demoPartnerConfig({ allowedOrigins: [stack.merchant.url] })],
    dbPath: `${tmp.dir}/signing.db`,
    logger: silentLogger(),
    rateLimits: false,
  })
})
afterAll(async () => {
  gateway.close()
  await relay.close()
  await stack.close()
  tmp.cleanup()
})

/** A TRADE_SUCCESS notify for a paid order, in GBK, signed as the gateway signs a GBK notify. */
async function gbkNotify(orderId: string, tradeNo: string, amount: string): Promise<string> {
  const params: Params = {
    notify_time: '2024-12-20 16:16:15',
    notify_type: 'trade_status_sync',
    notify_id: `gbk${Math.random().toString(36).slice(2)}`,
    out_trade_no: orderId,
    trade_no: tradeNo,
    trade_status: 'TRADE_SUCCESS',
    total_fee: amount,
    seller_id: DEMO_PARTNER.sellerId,
    subject: '龙井茶叶礼盒',
  }
  const signed = await signParams(params, { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key }, charset: 'gbk' })
  return encodeForm(signed, 'gbk')
}

describe('one decoding for every receiver', () => {
  it('rule: a GBK notify is decoded and verified alike by the relay and by the shop', async () => {
    const paid = await payOrder(stack)
    const trade = stack.sandbox.deps.store.tradesByOutTradeNo(paid.orderId)[0]!
    const body = await gbkNotify(paid.orderId, trade.tradeNo, paid.amount)
    expect(decodeNotify(body, GBK).params['subject']).toBe('龙井茶叶礼盒')

    const atRelay = await relay.app.fetch(
      new Request('http://pay.test/notify/mapi', { method: 'POST', headers: { 'content-type': GBK }, body }),
    )
    expect(await atRelay.text()).toBe('success')
    // The same bytes and Content-Type, as the relay forwards them, at the shop: verified, confirmed.
    const atShop = await fetch(`${stack.merchant.url}/api/notify`, {
      method: 'POST',
      headers: { 'content-type': GBK },
      body,
    })
    expect(await atShop.text()).toBe('success')
    expect((await merchantOrder(stack, paid.orderId)).status).toBe('success')
  })
})
