import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { AddressInfo } from 'node:net'
import {
  amountsEqual,
  formatBeijingTime,
  generateOrderId,
  isCancelledDetails,
  isPaidStatus,
  signParams,
  verifyParams,
  verifyPaymentResponse,
  type KeyRing,
} from '@alipay-payment-handler/protocol'
import { DEMO_GATEWAY_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

/** How the test asks the merchant to build an order. */
export interface OrderOptions {
  amount?: string
  subject?: string
  /** `it_b_pay` as sent; `{ inSeconds }` gives an absolute Beijing time that far ahead. */
  itBPay?: string | { inSeconds: number }
  /** Breaks the data after signing, to test the handler's validation. */
  corrupt?: 'total_fee'
}

/** One order of the test shop. `paidBy` says which channel told the shop first. */
export interface TestOrder {
  orderId: string
  amount: string
  status: 'wait' | 'paid'
  paidBy?: 'response' | 'notify'
  notifies: number
}

// The gateway signs MD5 returns and notifies with the partner's key, RSA ones with its own key.
const GATEWAY_KEYS: KeyRing = { md5Key: DEMO_PARTNER.md5Key, publicKey: DEMO_GATEWAY_RSA.publicKey }

/**
 * The shop page. `__prepare(options)` fetches a signed order and builds the PaymentRequest with
 * the handler's URL identifier directly (the polyfill is not part of this suite); `#buy` calls
 * show() synchronously in its click handler, as user activation requires. The verdict of the
 * shop's backend lands in `#status`; `__watchOrder` polls the backend into `#order`.
 */
function shopPage(method: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test shop</title></head>
<body>
  <h1>Test shop</h1>
  <button id="buy" type="button">Buy</button>
  <p id="status">idle</p>
  <p id="order">unknown</p>
  <script>
    const METHOD = ${JSON.stringify(method)}
    const status = (text) => { document.querySelector('#status').textContent = text }
    window.__prepare = async (options) => {
      const order = await fetch('/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(options ?? {}) }).then((r) => r.json())
      window.__order = order
      window.__request = new PaymentRequest(
        [{ supportedMethods: METHOD, data: order.data }],
        { id: order.orderId, total: { label: 'Total', amount: { currency: 'CNY', value: order.amount } } },
      )
      status('ready')
      return order.orderId
    }
    document.querySelector('#buy').addEventListener('click', () => {
      status('showing')
      window.__request.show().then(async (response) => {
        window.__response = { methodName: response.methodName, details: response.details }
        const verdict = await fetch('/api/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orderId: window.__order.orderId, details: response.details }) }).then((r) => r.json())
        window.__verdict = verdict
        status('completing')
        // 'unknown' for a cancellation: nothing failed, and complete('fail') asks Chromium for an error UI.
        await response.complete(verdict.ok ? 'success' : verdict.cancelled ? 'unknown' : 'fail')
        status(verdict.ok ? 'paid ' + verdict.tradeNo : verdict.cancelled ? 'cancelled ' + verdict.reason + (verdict.code ? ' ' + verdict.code : '') : 'rejected ' + verdict.reason)
      }, (error) => status(error.name))
    })
    window.__watchOrder = (orderId) => {
      const tick = async () => {
        const order = await fetch('/api/orders/' + orderId).then((r) => r.json())
        document.querySelector('#order').textContent = order.status === 'paid' ? 'order paid by ' + order.paidBy : 'order ' + order.status
        if (order.status !== 'paid') setTimeout(tick, 300)
      }
      void tick()
    }
  </script>
</body></html>`
}

/**
 * A minimal merchant: signs PaymentMethodSpecificData with the demo MD5 key (protocol's
 * signParams), verifies the PaymentResponse with the gateway key, and takes notifies.
 */
export function createTestMerchant(options: { origin: string; method: string }) {
  const orders = new Map<string, TestOrder>()
  const app = new Hono()

  app.get('/shop.html', (c) => c.html(shopPage(options.method)))

  app.post('/api/orders', async (c) => {
    const input = (await c.req.json()) as OrderOptions
    const orderId = generateOrderId()
    const amount = input.amount ?? '0.01'
    const itBPay =
      typeof input.itBPay === 'object'
        ? formatBeijingTime(new Date(Date.now() + input.itBPay.inSeconds * 1000))
        : (input.itBPay ?? '30m')
    const data = await signParams(
      {
        service: 'mobile.securitypay.pay',
        partner: DEMO_PARTNER.partner,
        _input_charset: 'utf-8',
        notify_url: `${options.origin}/notify`,
        out_trade_no: orderId,
        subject: input.subject ?? 'Jasmine green tea, 100 g',
        payment_type: '1',
        seller_id: DEMO_PARTNER.sellerId,
        total_fee: amount,
        body: 'Loose leaf, spring harvest',
        goods_type: '1',
        it_b_pay: itBPay,
      },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    if (input.corrupt === 'total_fee') data['total_fee'] = '1.234'
    orders.set(orderId, { orderId, amount, status: 'wait', notifies: 0 })
    return c.json({ orderId, amount, data })
  })

  app.post('/api/verify', async (c) => {
    const { orderId, details } = (await c.req.json()) as { orderId: string; details: Record<string, string> }
    const order = orders.get(orderId)
    if (!order) return c.json({ ok: false, reason: 'unknown-order' })
    if (isCancelledDetails(details))
      return c.json({ ok: false, cancelled: true, reason: details.reason, code: details.code })
    const verified = await verifyPaymentResponse(details, GATEWAY_KEYS)
    if (!verified.ok) return c.json({ ok: false, reason: `signature: ${verified.reason}` })
    if (details['success'] !== 'true' || !isPaidStatus(details['trade_status']))
      return c.json({ ok: false, reason: 'not-paid' })
    if (details['out_trade_no'] !== orderId || !amountsEqual(details['total_fee'] ?? '', order.amount)) {
      return c.json({ ok: false, reason: 'order-mismatch' })
    }
    if (order.status !== 'paid') Object.assign(order, { status: 'paid', paidBy: 'response' })
    return c.json({ ok: true, tradeNo: details['trade_no'] })
  })

  app.post('/notify', async (c) => {
    const params = Object.fromEntries(new URLSearchParams(await c.req.text()))
    const verified = await verifyParams(params, { keys: GATEWAY_KEYS })
    const order = orders.get(params['out_trade_no'] ?? '')
    if (!verified.ok || !order) return c.text('fail')
    order.notifies++
    if (
      isPaidStatus(params['trade_status']) &&
      amountsEqual(params['total_fee'] ?? '', order.amount) &&
      order.status !== 'paid'
    ) {
      Object.assign(order, { status: 'paid', paidBy: 'notify' })
    }
    return c.text('success')
  })

  app.get('/api/orders/:id', (c) => {
    const order = orders.get(c.req.param('id'))
    return order ? c.json(order) : c.json({ status: 'unknown' }, 404)
  })

  return { app, orders }
}

/** Starts the test merchant on `port` (127.0.0.1, reached as localhost). */
export async function startTestMerchant(port: number, method: string) {
  const origin = `http://localhost:${port}`
  const merchant = createTestMerchant({ origin, method })
  const server = serve({ fetch: merchant.app.fetch, port, hostname: '127.0.0.1' })
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve())
    server.once('error', reject)
  })
  return {
    origin,
    orders: merchant.orders,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
