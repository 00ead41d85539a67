import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  SESSION_REVOKE_SERVICE,
  formatBeijingTime,
  parseBeijingTime,
  sessionRevokeParams,
  signParams,
  type Params,
} from '@alipay-payment-handler/protocol'
import { openSqliteOrderStore } from '@alipay-payment-handler/merchant'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startMerchant, type RunningMerchant } from '@alipay-payment-handler/demo-shop/server/server'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import {
  asOperator,
  call,
  createSession,
  eventually,
  merchantOrder,
  notifyFor,
  gatewaySign,
  payAtCashier,
  paymentData,
  placeOrder,
  postNotify,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

/**
 * Money-path rule 3 (docs/security.md): a cancelled order never becomes `success` silently. The
 * method data carries a signed deadline, a cancel revokes the payment app's sessions of the order,
 * and a payment that gets through all the same is recorded and refunded (or left to a person).
 * Through the real sandbox, signing server and demo merchant on loopback.
 */
let stack: SecurityStack
/** A second shop on the same sandbox with automatic refunds off, and a payment app it cannot reach. */
let flagging: RunningMerchant
beforeAll(async () => {
  stack = await startSecurityStack()
  flagging = await startMerchant({
    port: 0,
    appOrigin: 'http://127.0.0.1:1',
    gatewayUrl: stack.sandbox.gatewayUrl,
    partner: demoPartnerConfig(),
    dataDir: join(stack.dir, 'flagging'),
    logger: silentLogger(),
    refundLatePayments: false,
    rateLimits: false,
  })
})
afterAll(async () => {
  await flagging?.close()
  await stack.close()
})

const md5 = (params: Params) => signParams(params, { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } })
const cancel = (base: string, orderId: string) => call(`${base}/api/orders/${orderId}/cancel`, { method: 'POST' })
const auditOf = async (dir: string, orderId: string) => {
  const store = openSqliteOrderStore(join(dir, 'merchant-orders.db'))
  try {
    return (await store.auditTrail(orderId)).map((row) => row.action)
  } finally {
    store.close()
  }
}

describe('money-path rule 3: a cancelled order never becomes success silently', () => {
  it('rule: signed method data carries its deadline (it_b_pay), and the payment app opens no session after it', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    // The order's own deadline, absolute, under the merchant's signature.
    // (The shop's orders stay payable 2 h.)
    const deadline = parseBeijingTime(data['it_b_pay'] ?? '')?.getTime() ?? 0
    expect(deadline).toBeGreaterThan(Date.now() + 3600_000)
    expect(deadline).toBeLessThanOrEqual(Date.now() + 2 * 3600_000)
    // Pushing the deadline out breaks the signature; dropping it too.
    const { sign: _s, sign_type: _t, ...unsigned } = data
    const later = { ...data, it_b_pay: formatBeijingTime(new Date(Date.now() + 30 * 86_400_000)) }
    expect((await createSession(stack, later, total)).json.type).toMatch(/invalid-signature$/)
    const { it_b_pay: _deadline, ...undated } = data
    expect((await createSession(stack, undated, total)).json.type).toMatch(/invalid-signature$/)
    // Data the merchant signed for an order whose deadline passed: refused with a typed problem.
    const expired = await md5({ ...unsigned, it_b_pay: formatBeijingTime(new Date(Date.now() - 60_000)) })
    const refused = await createSession(stack, expired, total)
    expect(refused.status).toBe(410)
    expect(refused.json.type).toMatch(/order-expired$/)
    // Within its deadline the same order pays as before.
    expect((await createSession(stack, data, total)).status).toBe(201)
  })

  it('rule: a cancel revokes the payment app’s sessions of the order (no cashier, no new session)', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const session = await createSession(stack, data, total)
    expect(session.status).toBe(201)
    const started = performance.now()
    expect((await cancel(stack.merchant.url, order.orderId)).json.status).toBe('close')
    const cancelMs = performance.now() - started
    expect(cancelMs).toBeGreaterThan(0)
    const view = await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}`)
    expect(view.json).toMatchObject({ status: 'cancelled', outcome: { kind: 'cancelled', reason: 'closed' } })
    // The window cannot send the buyer to the cashier, and the old method data opens nothing new.
    const cashier = await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}/cashier`)
    expect(cashier.status).toBe(409)
    const again = await createSession(stack, data, total)
    expect(again.status).toBe(410)
    expect(again.json.type).toMatch(/order-cancelled$/)
  })

  it('rule: the revoke is the merchant’s signed message, keyed by (partner, out_trade_no), and nothing else passes for it', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const session = await createSession(stack, data, total)
    const revoke = (params: Params) => call(`${stack.signing.url}/api/merchant/revoke`, { body: { params } })
    const fresh = sessionRevokeParams(DEMO_PARTNER.partner, order.orderId, new Date())
    // Unsigned, signed with another key, stale, or another signed kind (the method data itself).
    expect((await revoke({ ...fresh, sign_type: 'MD5', sign: '0'.repeat(32) })).json.type).toMatch(/invalid-signature$/)
    const foreignKey = await signParams(fresh, { signType: 'MD5', keys: { md5Key: 'x'.repeat(32) } })
    expect((await revoke(foreignKey)).status).toBe(403)
    const stale = await md5(sessionRevokeParams(DEMO_PARTNER.partner, order.orderId, new Date(Date.now() - 3600_000)))
    expect((await revoke(stale)).json.type).toMatch(/stale-revoke$/)
    expect((await revoke(data)).json.type).toMatch(/malformed-revoke$/)
    // A page cannot send it either: a cross-site POST is refused before the signature is read.
    const crossSite = await call(`${stack.signing.url}/api/merchant/revoke`, {
      body: { params: await md5(fresh) },
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.status).toBe(403)
    expect((await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}`)).json.status).toBe('at_cashier')
    // And a signed revoke is no notify: the notify path refuses its shape.
    const asNotify = await md5({ ...fresh, service: SESSION_REVOKE_SERVICE })
    expect((await postNotify(`${stack.merchant.url}/api/notify`, asNotify)).text).toBe('fail')
    // The genuine one cancels exactly this order's sessions.
    const other = await placeOrder(stack)
    const otherData = await paymentData(stack, other.orderId)
    const otherSession = await createSession(stack, otherData.data, otherData.total)
    const genuine = await revoke(await md5(fresh))
    expect(genuine.json).toEqual({ outTradeNo: order.orderId, revoked: 1 })
    expect((await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}`)).json.status).toBe('cancelled')
    expect((await call(`${stack.signing.url}/api/sessions/${otherSession.json.sessionId}`)).json.status).toBe(
      'at_cashier',
    )
  })

  it('rule: a payment for a cancelled order is recorded and refunded automatically, never marked paid', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const session = await createSession(stack, data, total)
    // Cancelled before the cashier was opened: no trade at the gateway to close.
    expect((await cancel(stack.merchant.url, order.orderId)).json.status).toBe('close')
    // The buyer still holds the cashier link the window was given, and pays with it.
    await payAtCashier(session.json.cashierUrl)
    const refunded = await eventually(async () => {
      const view = await merchantOrder(stack, order.orderId)
      return view.latePayment === 'refunding' ? view : undefined
    })
    expect(refunded).toMatchObject({ status: 'close', refundedAmount: order.amount })
    expect(refunded.tradeNo).toBeTruthy()
    // check, the notify's retries and reconciliation learn of the same payment: still one refund, never paid.
    expect(
      (
        await call(`${stack.merchant.url}/api/orders/${order.orderId}/check`, {
          method: 'POST',
          headers: asOperator(stack),
        })
      ).json.status,
    ).toBe('close')
    const report = await call(`${stack.merchant.url}/api/reconciliation`, {
      method: 'POST',
      headers: asOperator(stack),
    })
    expect(report.status).toBe(200)
    expect(report.json.repaired.map((r: { orderId: string }) => r.orderId)).not.toContain(order.orderId)
    const trade = stack.sandbox.deps.store.tradesByOutTradeNo(order.orderId)[0]!
    const replay = await gatewaySign(notifyFor(order.orderId, order.amount, { trade_no: trade.tradeNo }))
    // (Answered `fail` once the refund closed the trade: the trade query no longer confirms it.)
    await postNotify(`${stack.merchant.url}/api/notify`, replay)
    const after = await merchantOrder(stack, order.orderId)
    expect(after).toMatchObject({ status: 'close', refundedAmount: order.amount, latePayment: 'refunding' })
    const actions = await auditOf(stack.dir, order.orderId)
    expect(actions.filter((a) => a === 'LATE_PAYMENT_REFUND')).toHaveLength(1)
    // The refund went to the gateway through the ordinary flow (one batch, the whole amount).
    await eventually(() => stack.sandbox.deps.store.tradesByOutTradeNo(order.orderId)[0]?.status === 'TRADE_CLOSED')
  })

  it('rule: with automatic refunds off, a payment for a cancelled order is flagged for a person, never paid', async () => {
    const created = await call(`${flagging.url}/api/checkout`, {
      body: { items: [{ productId: 'celadon-cup', quantity: 1 }] },
    })
    const orderId = created.json.orderId as string
    // The classic cashier link (the payment app is unreachable for this shop: the revoke fails, the cancel holds).
    const link = await call(`${flagging.url}/api/orders/${orderId}/pay-url`, { body: { payType: 'PRE_PAY' } })
    expect((await cancel(flagging.url, orderId)).json.status).toBe('close')
    await payAtCashier(link.json.payUrl)
    const flagged = await eventually(async () => {
      const view = (await call(`${flagging.url}/api/orders/${orderId}`)).json
      return view.latePayment === 'needs-review' ? view : undefined
    })
    expect(flagged).toMatchObject({ status: 'close' })
    expect(flagged.refundedAmount).toBeUndefined()
    // Visible in the orders list and in the audit trail.
    const list = (
      await call(`${flagging.url}/api/orders`, { headers: { authorization: `Bearer ${flagging.operatorToken}` } })
    ).json as { orderId: string; latePayment?: string }[]
    expect(list.find((o) => o.orderId === orderId)?.latePayment).toBe('needs-review')
    expect(await auditOf(join(stack.dir, 'flagging'), orderId)).toContain('FLAG_LATE_PAYMENT')
  })
})
