import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeForm, type Params } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import {
  asOperator,
  call,
  createSession,
  eventually,
  gatewaySign,
  merchantOrder,
  paymentData,
  payOrder,
  placeOrder,
  postNotify,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

const paidOf = async (orderId: string) =>
  eventually(async () => {
    const order = await merchantOrder(stack, orderId)
    return order.status === 'success' ? order : undefined
  })

/** The gateway's trades for an order number. */
async function gatewayTrades(orderId: string): Promise<any[]> {
  const answer = await call(`${stack.sandbox.url}/_sandbox/trades?out_trade_no=${orderId}`)
  return (Array.isArray(answer.json) ? answer.json : (answer.json.trades ?? [])) as any[]
}

describe('amount and order attacks', () => {
  it('attack: total_fee edited in the browser is refused (signing server and merchant confirm)', async () => {
    const order = await placeOrder(stack)
    const { data } = await paymentData(stack, order.orderId)
    const edited = { ...data, total_fee: '0.01' }
    const session = await createSession(stack, edited, { currency: 'CNY', value: '0.01' })
    expect(session.status).toBe(403)
    expect(session.json.type).toMatch(/invalid-signature/)

    const paid = await payOrder(stack)
    const details = decodeForm(new URL(paid.returnUrl).search)
    const confirm = await call(`${stack.merchant.url}/api/orders/${paid.orderId}/confirm`, {
      body: { details: { ...details, total_fee: '0.01', success: 'true' } },
    })
    expect(confirm.json.code).toBe('INVALID_SIGNATURE')
  })

  it('attack: total.value ≠ total_fee is refused', async () => {
    const order = await placeOrder(stack)
    const { data } = await paymentData(stack, order.orderId)
    const session = await createSession(stack, data, { currency: 'CNY', value: '0.01' })
    expect(session.status).toBe(400)
    expect(session.json.type).toMatch(/amount-mismatch/)
  })

  it('attack: a currency other than CNY is refused', async () => {
    const order = await placeOrder(stack)
    const { data } = await paymentData(stack, order.orderId)
    for (const currency of ['USD', 'cny', 'CNY ', '']) {
      const session = await createSession(stack, data, { currency, value: order.amount })
      expect(session.status).toBe(400)
      expect(session.json.type).toMatch(/currency-not-supported|invalid-request/)
    }
  })

  it('attack: a return or notify of one order replayed for another pays nothing', async () => {
    const paid = await payOrder(stack)
    const victim = await placeOrder(stack)
    const victimData = await paymentData(stack, victim.orderId)
    const victimSession = await createSession(stack, victimData.data, victimData.total)
    const replayed = await call(`${stack.signing.url}/api/sessions/${victimSession.json.sessionId}/return`, {
      body: { query: new URL(paid.returnUrl).search },
    })
    expect(replayed.status).toBe(400)
    expect(replayed.json.type).toMatch(/return-mismatch/)
    const details = { ...decodeForm(new URL(paid.returnUrl).search), success: 'true' }
    const confirm = await call(`${stack.merchant.url}/api/orders/${victim.orderId}/confirm`, { body: { details } })
    expect(confirm.json.code).toBe('ORDER_MISMATCH')
    expect((await merchantOrder(stack, victim.orderId)).status).toBe('wait')
  })

  it('attack: a notify whose amount or seller differs from the order pays nothing', async () => {
    const order = await placeOrder(stack)
    const base: Params = {
      notify_time: '2024-12-20 16:16:15',
      notify_type: 'trade_status_sync',
      out_trade_no: order.orderId,
      trade_no: '2024122021001004550200001234',
      trade_status: 'TRADE_SUCCESS',
      seller_id: DEMO_PARTNER.sellerId,
    }
    const cheap = await gatewaySign({ ...base, notify_id: 'amountattack1', total_fee: '0.01' }, 'RSA2')
    const foreign = await gatewaySign(
      { ...base, notify_id: 'sellerattack1', total_fee: order.amount, seller_id: '2088000000000001' },
      'RSA2',
    )
    await postNotify(`${stack.merchant.url}/api/notify`, cheap)
    await postNotify(`${stack.merchant.url}/api/notify`, foreign)
    const after = await merchantOrder(stack, order.orderId)
    expect(after.status).toBe('wait')
    expect(after.notifies.every((n: { verified: boolean }) => !n.verified)).toBe(true)
  })

  it('attack: a notify that verifies by signature but not with the gateway (notify_verify, query) pays nothing', async () => {
    // Even an attacker holding the MD5 key cannot pay an order the gateway has no payment for.
    const order = await placeOrder(stack)
    const forged = await gatewaySign({
      notify_time: '2024-12-20 16:16:15',
      notify_type: 'trade_status_sync',
      notify_id: 'neverissuedbythegateway0000000001',
      out_trade_no: order.orderId,
      trade_no: '2024122021001004550200009999',
      trade_status: 'TRADE_SUCCESS',
      total_fee: order.amount,
      seller_id: DEMO_PARTNER.sellerId,
    })
    const merchant = await postNotify(`${stack.merchant.url}/api/notify`, forged)
    expect(merchant.text).toBe('fail')
    const relay = await postNotify(`${stack.signing.url}/notify/mapi`, forged)
    expect(relay.status).toBe(403)
    expect((await merchantOrder(stack, order.orderId)).status).toBe('wait')
  })

  it('attack: a notify_id replayed after it was used changes nothing', async () => {
    const paid = await payOrder(stack)
    const order = await paidOf(paid.orderId)
    const notifies = await call(`${stack.sandbox.url}/_sandbox/notifies`)
    const list = (Array.isArray(notifies.json) ? notifies.json : notifies.json.notifies) as any[]
    const mine = list.find((n) => JSON.stringify(n).includes(paid.orderId))
    expect(mine).toBeDefined()
    await eventually(async () => {
      const replay = await call(`${stack.sandbox.url}/_sandbox/triggers/replay`, { body: { notify_id: mine.notifyId } })
      return replay.json.ok === true
    })
    // The same signed bytes with a new meaning: a TRADE_CLOSED under the used notify_id.
    const closing = await gatewaySign({
      notify_time: '2024-12-20 16:16:15',
      notify_type: 'trade_status_sync',
      notify_id: mine.notifyId,
      out_trade_no: paid.orderId,
      trade_no: order.tradeNo,
      trade_status: 'TRADE_CLOSED',
      total_fee: paid.amount,
      seller_id: DEMO_PARTNER.sellerId,
    })
    await postNotify(`${stack.merchant.url}/api/notify`, closing)
    await new Promise((r) => setTimeout(r, 300))
    const after = await merchantOrder(stack, paid.orderId)
    expect(after.status).toBe('success')
    expect(after.notifies.filter((n: { verified: boolean }) => n.verified)).toHaveLength(1)
  })

  it('attack: a paid order paid again is refused everywhere', async () => {
    const paid = await payOrder(stack)
    await paidOf(paid.orderId)
    const again = await call(`${stack.merchant.url}/api/orders/${paid.orderId}/payment-data`, { method: 'POST' })
    expect(again.json.code).toBe('ORDER_STATE_CONFLICT')
    const session = await createSession(stack, paid.data, { currency: 'CNY', value: paid.amount })
    expect(session.status).toBe(409)
    expect(session.json.type).toMatch(/order-already-paid/)
    const trades = await gatewayTrades(paid.orderId)
    expect(trades.filter((t) => /TRADE_SUCCESS|TRADE_FINISHED/.test(JSON.stringify(t)))).toHaveLength(1)
  })

  it('attack: a refund above the paid amount is refused', async () => {
    const paid = await payOrder(stack)
    await paidOf(paid.orderId)
    const refund = await call(`${stack.merchant.url}/api/orders/${paid.orderId}/refund`, {
      body: { amount: '1000.00' },
      headers: asOperator(stack),
    })
    expect(refund.status).toBeGreaterThanOrEqual(400)
    expect(refund.status).toBeLessThan(500)
    expect(refund.json.code).toMatch(/REFUND_AMOUNT_EXCEEDED|AMOUNT_INVALID/)
  })

  it('attack: concurrent refunds never refund more than was paid', async () => {
    const paid = await payOrder(stack)
    await paidOf(paid.orderId)
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () =>
        call(`${stack.merchant.url}/api/orders/${paid.orderId}/refund`, {
          body: { amount: '20.00' },
          headers: asOperator(stack),
        }),
      ),
    )
    const accepted = attempts.filter((a) => a.status < 300)
    // 39.90 holds one refund of 20.00, never two.
    expect(accepted).toHaveLength(1)
    for (const refused of attempts.filter((a) => a.status >= 300)) {
      expect(refused.status).toBeLessThan(500)
    }
  })
})
