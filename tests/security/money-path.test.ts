import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signParams } from '@alipay-payment-handler/protocol'
import { DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import {
  call,
  createSession,
  gatewaySign,
  merchantOrder,
  notifyFor,
  paymentData,
  payOrder,
  placeOrder,
  postNotify,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

/**
 * The money-path rules of docs/security.md ("Money-path rules"), each attacked through the real
 * servers: sandbox, signing server (relay) and the demo merchant on loopback. The attacker holds
 * the partner's MD5 key (leaked) and everything a buyer's browser can see.
 */
let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

const settle = () => new Promise((resolve) => setTimeout(resolve, 600))

describe('money-path rules', () => {
  it('rule: a notify moves money only on the gateway’s word (a leaked MD5 key and a live notify_id pay nothing)', async () => {
    // A genuine cheap payment gives the attacker a live notify_id of this partner (from its return URL).
    const cheap = await payOrder(stack)
    const liveId = new URL(cheap.returnUrl).searchParams.get('notify_id')
    expect(liveId).toBeTruthy()
    const victim = await placeOrder(stack)
    const { data, total } = await paymentData(stack, victim.orderId)
    const session = await createSession(stack, data, total)
    expect(session.status).toBe(201)
    const forged = await gatewaySign(notifyFor(victim.orderId, victim.amount, { notify_id: liveId! }))

    // The merchant: notify_verify would say "true" for that id; the trade query says unpaid.
    const atMerchant = await postNotify(`${stack.merchant.url}/api/notify`, forged)
    expect(atMerchant.text).toBe('fail')
    // The relay stores and forwards it (the merchant decides), but never settles the session.
    await postNotify(`${stack.signing.url}/notify/mapi`, { ...forged, notify_id: `${liveId}x` })
    await settle()
    const view = await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}`)
    expect(view.json.status).not.toBe('paid')
    expect((await merchantOrder(stack, victim.orderId)).status).toBe('wait')
  })

  it('rule: one sign type per partner and direction (RSA where MD5 is configured is refused, though the key verifies)', async () => {
    // A live notify_id, so that only the sign type can stop the forged notify at the relay.
    const cheap = await payOrder(stack)
    const liveId = new URL(cheap.returnUrl).searchParams.get('notify_id')!
    const order = await placeOrder(stack)
    // Signed with the sandbox gateway's real RSA key: a valid RSA signature, of the wrong type.
    const rsa = await gatewaySign(notifyFor(order.orderId, order.amount, { notify_id: liveId }), 'RSA')
    const relay = await postNotify(`${stack.signing.url}/notify/mapi`, rsa)
    expect(relay.status).toBe(403)
    expect(relay.text).toContain('sign-type-mismatch')
    expect((await postNotify(`${stack.merchant.url}/api/notify`, rsa)).text).toBe('fail')
    // The merchant's method data signed with its own RSA key (configured too): refused, not verified.
    const { data, total } = await paymentData(stack, order.orderId)
    const { sign: _sign, sign_type: _type, ...unsigned } = data
    const rsaData = await signParams(unsigned, { signType: 'RSA', keys: { privateKey: DEMO_MERCHANT_RSA.privateKey } })
    const refused = await createSession(stack, rsaData, total)
    expect(refused.status).toBe(400)
    expect(refused.json.type).toMatch(/unsupported-sign-type$/)
    expect((await merchantOrder(stack, order.orderId)).status).toBe('wait')
  })

  it('rule: each message kind has its required shape (signed method data is no PaymentResponse, a set without notify_id no notify)', async () => {
    const order = await placeOrder(stack)
    const { data } = await paymentData(stack, order.orderId)
    // Under MD5 the merchant's own method data carries a valid signature of the same key.
    const asResponse = await call(`${stack.merchant.url}/api/orders/${order.orderId}/confirm`, {
      body: { details: { ...data, success: 'true' } },
    })
    // Refused for its shape (no notify_id, trade_no, trade_status…), before its signature is read.
    expect(asResponse.status).toBe(400)
    expect(asResponse.json).toMatchObject({ code: 'INVALID_SIGNATURE' })
    expect(asResponse.text).toContain('malformed-response')
    const { notify_id: _id, ...noId } = notifyFor(order.orderId, order.amount)
    const withoutId = await gatewaySign(noId)
    expect((await postNotify(`${stack.merchant.url}/api/notify`, withoutId)).text).toBe('fail')
    const relay = await postNotify(`${stack.signing.url}/notify/mapi`, withoutId)
    expect(relay.status).toBe(400)
    expect(relay.text).toContain('notify_id')
    expect((await merchantOrder(stack, order.orderId)).status).toBe('wait')
  })

  it('rule: the gateway status only moves forward (a late TRADE_SUCCESS does not undo TRADE_FINISHED)', async () => {
    const paid = await payOrder(stack)
    await settle()
    const before = await merchantOrder(stack, paid.orderId)
    expect(before.status).toBe('success')
    // The gateway's own later notify (signed with the real key): the trade finished.
    const trade = stack.sandbox.deps.store.tradesByOutTradeNo(paid.orderId)[0]!
    const finished = await gatewaySign(
      notifyFor(paid.orderId, paid.amount, { trade_no: trade.tradeNo, trade_status: 'TRADE_FINISHED' }),
    )
    expect((await postNotify(`${stack.merchant.url}/api/notify`, finished)).text).toBe('success')
    expect((await merchantOrder(stack, paid.orderId)).gatewayStatus).toBe('TRADE_FINISHED')
    // Then a delayed first TRADE_SUCCESS arrives: the order keeps TRADE_FINISHED.
    const late = await gatewaySign(notifyFor(paid.orderId, paid.amount, { trade_no: trade.tradeNo }))
    expect((await postNotify(`${stack.merchant.url}/api/notify`, late)).text).toBe('success')
    const after = await merchantOrder(stack, paid.orderId)
    expect(after).toMatchObject({ status: 'success', gatewayStatus: 'TRADE_FINISHED' })
  })

  it('rule: the relay posts notifies only to the partner’s configured origins (no SSRF by notify_url)', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const shop = new URL(stack.merchant.url)
    const elsewhere = [
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.1:${new URL(stack.signing.url).port}/api/sessions`,
      `${shop.protocol}//${shop.hostname}:1/notify`,
    ]
    for (const notifyUrl of elsewhere) {
      const { sign: _sign, sign_type: _type, ...unsigned } = data
      // Signed with the merchant's own key: a genuine order whose notify_url points elsewhere.
      const redirected = await signParams(
        { ...unsigned, notify_url: notifyUrl },
        {
          signType: 'MD5',
          keys: { md5Key: DEMO_PARTNER.md5Key },
        },
      )
      const refused = await createSession(stack, redirected, total)
      expect(refused.status, notifyUrl).toBe(403)
      expect(refused.json.type).toMatch(/notify-url-not-allowed$/)
    }
    // The shop's own notify_url is fine.
    expect((await createSession(stack, data, total)).status).toBe(201)
  })
})
