import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeForm, signParams, verifyPaymentResponse, type Params } from '@alipay-payment-handler/protocol'
import {
  DEMO_PARTNER,
  postCashierPay,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import {
  startSigningServer,
  type RunningSigningServer,
  type SigningServerConfig,
} from '@alipay-payment-handler/payment-app'
import { eventually, MERCHANT_RING, startMerchant, tempDir, type Merchant } from '../support/harness.js'

const MERCHANT_ORIGIN = 'http://localhost:4100'
// The sandbox's 4-minute first retry gap becomes 240 ms.
const TIME_SCALE = 0.001

describe('signing server against the real sandbox', () => {
  const tmp = tempDir()
  let sandbox: RunningSandbox
  let merchant: Merchant
  let signing: RunningSigningServer
  // The relay forwards only to the partner's configured origins: the merchant's and this receiver's.
  let receiver: NotifyReceiver
  let clockOffset = 0
  const serverConfig = (): SigningServerConfig => ({
    port: 0,
    gatewayUrl: sandbox.gatewayUrl,
    partners: [
      demoPartnerConfig({
        allowedOrigins: [MERCHANT_ORIGIN],
        notifyOrigins: [new URL(merchant.url).origin, new URL(receiver.url).origin],
      }),
    ],
    dbPath: `${tmp.dir}/signing.db`,
    logger: silentLogger(),
    pollIntervalMs: 50,
    outboxIntervalMs: 20,
    retryGapsMs: [150, 150, 150],
    rateLimits: false,
    gatewayTimeoutMs: 3000,
    now: () => Date.now() + clockOffset,
  })

  beforeAll(async () => {
    sandbox = await startSandbox(
      demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: TIME_SCALE, log: () => {} }),
    )
    merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders.db`)
    receiver = await startReceiver()
    signing = await startSigningServer(serverConfig())
  })
  afterAll(async () => {
    await signing.close()
    await receiver.close()
    await merchant.close()
    await sandbox.close()
    tmp.cleanup()
  })

  const api = async (path: string, body?: unknown) => {
    const response = await fetch(`${signing.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, type: response.headers.get('content-type'), json: (await response.json()) as any }
  }

  async function createSession(data: Params, total = data['total_fee']!) {
    const created = await api('/api/sessions', {
      paymentRequestId: `pr-${Math.random()}`,
      merchantOrigin: MERCHANT_ORIGIN,
      methodData: data,
      total: { currency: 'CNY', value: total },
    })
    expect(created.status).toBe(201)
    return created.json as { sessionId: string; cashierUrl: string; status: string }
  }

  /** Follows the cashier URL, logs in as the demo buyer and pays; returns the return_url location. */
  async function payAtCashier(cashierUrl: string): Promise<string> {
    const toCashier = await fetch(cashierUrl, { redirect: 'manual' })
    expect(toCashier.status).toBe(302)
    const cashier = new URL(toCashier.headers.get('location')!, cashierUrl).toString()
    const paid = await postCashierPay(cashier)
    expect(paid.status).toBe(303)
    return paid.headers.get('location')!
  }

  async function signedData(overrides: Params) {
    return signParams(
      {
        service: 'mobile.securitypay.pay',
        partner: DEMO_PARTNER.partner,
        _input_charset: 'utf-8',
        notify_url: `${merchant.url}/notify`,
        out_trade_no: `IT${Date.now()}${Math.floor(Math.random() * 1000)}`,
        subject: '测试商品',
        payment_type: '1',
        seller_id: DEMO_PARTNER.sellerId,
        total_fee: '0.01',
        ...overrides,
      },
      { signType: 'MD5', keys: MERCHANT_RING },
    )
  }

  it('runs session → cashier → return → an AlipayPaymentResponse the merchant verifies, and relays the notify', async () => {
    const order = await merchant.orders.create('测试商品', '0.01')
    const { data, total } = await merchant.orders.paymentData(order.orderId)
    const session = await createSession(data as Params, total.value)
    expect(session.status).toBe('at_cashier')
    expect(session.cashierUrl.startsWith(sandbox.gatewayUrl)).toBe(true)
    expect(decodeForm(new URL(session.cashierUrl).search)).toMatchObject({
      service: 'create_direct_pay_by_user',
      notify_url: `${signing.url}/notify/mapi`,
      return_url: `${signing.url}/pay/return/${session.sessionId}`,
      out_trade_no: order.orderId,
    })

    const location = await payAtCashier(session.cashierUrl)
    expect(location.startsWith(`${signing.url}/pay/return/${session.sessionId}?`)).toBe(true)
    const returned = await api(`/api/sessions/${session.sessionId}/return`, { query: new URL(location).search })
    expect(returned.status).toBe(200)
    expect(returned.json.status).toBe('paid')
    const details = returned.json.outcome.details
    expect(details.success).toBe('true')
    // Built from ONE gateway-signed set: the return, or the notify when it won the race.
    expect(details).toMatchObject({ out_trade_no: order.orderId, notify_type: 'trade_status_sync' })
    expect(await verifyPaymentResponse(details, MERCHANT_RING)).toMatchObject({ ok: true })

    const confirmed = await fetch(`${merchant.url}/orders/${order.orderId}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ details }),
    })
    expect(confirmed.status).toBe(200)
    expect(await confirmed.json()).toMatchObject({ status: 'success', tradeNo: details.trade_no })

    // The gateway's notify reaches the merchant through the relay, verbatim, and is recorded once.
    const notifies = await eventually(async () => {
      const list = await merchant.store.notifies(order.orderId)
      return list.length > 0 ? list : undefined
    })
    // The relayed notify and the browser's confirm race; either way the order is paid exactly once.
    expect(notifies).toHaveLength(1)
    expect(['paid', 'updated']).toContain(notifies[0]!.outcome)
    expect(notifies[0]).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' })
    expect((await merchant.orders.query(order.orderId)).status).toBe('success')
    expect((await api(`/api/sessions/${session.sessionId}`)).json.status).toBe('paid')
  })

  it('answers a WAP request with the WAP service and an auto-submitting cashier page under a strict CSP', async () => {
    const data = await signedData({})
    const created = await api('/api/sessions', {
      paymentRequestId: 'pr-wap',
      merchantOrigin: MERCHANT_ORIGIN,
      methodData: data,
      total: { currency: 'CNY', value: '0.01' },
      device: 'wap',
    })
    expect(created.status).toBe(201)
    expect(created.json.form.fields).toMatchObject({
      service: 'alipay.wap.create.direct.pay.by.user',
      show_url: `${MERCHANT_ORIGIN}/`,
    })
    const page = await fetch(`${signing.url}/api/sessions/${created.json.sessionId}/cashier`)
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain(`form-action 'self' ${new URL(sandbox.gatewayUrl).origin}`)
    expect(csp).toMatch(/script-src 'self' 'nonce-[0-9a-f]{32}'/)
    const html = await page.text()
    expect(html).toContain('name="service" value="alipay.wap.create.direct.pay.by.user"')
    expect(html).toContain(`nonce="${/nonce-([0-9a-f]+)/.exec(csp)![1]}"`)
  })

  it('forwards each notify verbatim, retries on the schedule, and loses nothing across a restart', async () => {
    {
      // First delivery: not "success"; second: a 500; the third arrives after a restart.
      receiver.answers.push({ status: 200, body: 'fail' }, { status: 500, body: 'oops' })
      const data = await signedData({ notify_url: receiver.url })
      const session = await createSession(data)
      await payAtCashier(session.cashierUrl)
      const [first] = await receiver.waitFor(1, undefined, 10_000)
      expect(first!.params['out_trade_no']).toBe(data['out_trade_no'])
      await receiver.waitFor(2, undefined, 10_000)

      await signing.close()
      signing = await startSigningServer(serverConfig())
      const all = await receiver.waitFor(3, undefined, 10_000)
      // Same notify, same gateway signature, every time.
      expect(new Set(all.map((n) => n.params['sign'])).size).toBe(1)
      expect(new Set(all.map((n) => n.params['notify_id'])).size).toBe(1)
      // The receiver records the notify before it answers: the outbox marks it delivered a moment later.
      const outboxRow = async () => {
        const [job] = await signing.server.store.outboxForOrder(DEMO_PARTNER.partner, data['out_trade_no']!)
        return { state: job?.state, attempts: job?.attempts }
      }
      const row = await eventually(async () => {
        const current = await outboxRow()
        return current.state === 'delivered' ? current : undefined
      })
      expect(row).toEqual({ state: 'delivered', attempts: 3 })
      // The session was settled by the notify even though the return never came.
      expect((await api(`/api/sessions/${session.sessionId}`)).json.status).toBe('paid')
    }
  })

  it('learns the result by polling single_trade_query when the window closed and no notify comes', async () => {
    sandbox.deps.faults.update({ dropNotifyAttempts: 8 })
    try {
      const data = await signedData({})
      const session = await createSession(data)
      await payAtCashier(session.cashierUrl)
      const closed = await api(`/api/sessions/${session.sessionId}/cancel`, { reason: 'window-closed' })
      expect(closed.json.status).toBe('at_cashier')
      const waited = await api(`/api/sessions/${session.sessionId}?wait=5&status=at_cashier`)
      expect(waited.json.status).toBe('paid')
    } finally {
      sandbox.deps.faults.reset()
    }
  })

  it('closes the trade at the gateway once the session deadline passes', async () => {
    const data = await signedData({})
    const session = await createSession(data)
    const toCashier = await fetch(session.cashierUrl, { redirect: 'manual' })
    expect(toCashier.status).toBe(302)
    clockOffset = 3 * 3600_000
    try {
      const waited = await api(`/api/sessions/${session.sessionId}?wait=5&status=at_cashier`)
      expect(waited.json).toMatchObject({ status: 'expired', outcome: { kind: 'cancelled', reason: 'expired' } })
      const trade = await merchant.orders.checkThird({
        orderId: data['out_trade_no']!,
        amount: '0.01',
      } as Parameters<typeof merchant.orders.checkThird>[0])
      expect(trade).toMatchObject({ trade_status: 'TRADE_CLOSED' })
    } finally {
      clockOffset = 0
    }
  })

  it('cancels an unpaid session by closing its trade, and refuses to pay an order twice', async () => {
    const data = await signedData({})
    const session = await createSession(data)
    await fetch(session.cashierUrl, { redirect: 'manual' })
    const cancelled = await api(`/api/sessions/${session.sessionId}/cancel`, {})
    expect(cancelled.json).toMatchObject({ status: 'cancelled', outcome: { kind: 'cancelled', reason: 'buyer' } })

    const paidData = await signedData({})
    const paid = await createSession(paidData)
    const location = await payAtCashier(paid.cashierUrl)
    await api(`/api/sessions/${paid.sessionId}/return`, { query: new URL(location).search })
    const again = await api('/api/sessions', {
      paymentRequestId: 'pr-again',
      merchantOrigin: MERCHANT_ORIGIN,
      methodData: paidData,
      total: { currency: 'CNY', value: '0.01' },
    })
    expect(again.status).toBe(409)
    expect(again.type).toContain('application/problem+json')
    expect(again.json.type).toBe('https://alipay-payment-handler.dev/problems/order-already-paid')
  })

  it('rejects a return whose signature was made with the wrong key', async () => {
    // Hold the notify back: once it lands the session is paid from a verified set, and the
    // return would no longer be the first signal this test is about.
    sandbox.deps.faults.update({ wrongKey: ['return'], notifyDelayMs: 60_000 })
    try {
      const session = await createSession(await signedData({}))
      const location = await payAtCashier(session.cashierUrl)
      const returned = await api(`/api/sessions/${session.sessionId}/return`, { query: new URL(location).search })
      expect(returned.status).toBe(400)
      expect(returned.json.type).toMatch(/invalid-signature$/)
    } finally {
      sandbox.deps.faults.reset()
    }
  })
})
