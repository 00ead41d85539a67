import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { OrderView } from '../common/views.js'
import { createMerchantApp } from './app.js'
import type { ShopOrders } from './shop-orders.js'

function order(overrides: Partial<OrderView> = {}): OrderView {
  return {
    orderId: 'D20260101120000000001',
    subject: '1 × Jasmine tea sample',
    amount: '0.01',
    status: 'wait',
    createdAt: '2026-01-01T04:00:00.000Z',
    notifies: [],
    ...overrides,
  }
}

/** A fake order service that records what the routes asked of it. */
function fakeOrders(overrides: Partial<ShopOrders> = {}): ShopOrders & { calls: unknown[][] } {
  const calls: unknown[][] = []
  const rec =
    <T>(name: string, value: T) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args])
      return value
    }
  return {
    calls,
    create: rec('create', order()),
    list: rec('list', [order()]),
    get: rec('get', order()),
    paymentData: rec('paymentData', {
      data: { service: 'mobile.securitypay.pay' },
      total: { currency: 'CNY', value: '0.01' },
      label: 'Total',
    }),
    payUrl: rec('payUrl', { payUrl: 'http://gw/qr', qrCode: 'data:image/png;base64,AAAA' }),
    confirm: rec('confirm', order({ status: 'success' })),
    check: rec('check', order()),
    cancel: rec('cancel', order({ status: 'close' })),
    refund: rec('refund', order({ status: 'refund' })),
    notify: rec('notify', 'success'),
    reconcile: rec('reconcile', { checked: 0, repaired: [], needsHuman: [], errors: [] }),
    latestReconciliation: rec('latestReconciliation', undefined),
    ...overrides,
  } as ShopOrders & { calls: unknown[][] }
}

const shopConfig = { appOrigin: 'http://localhost:4200', sandbox: true }

/** The operator token of these tests' shops; requests below carry it unless they play a buyer. */
const OPERATOR_TOKEN = 'operator-token-of-the-unit-tests'
const asOperator = { authorization: `Bearer ${OPERATOR_TOKEN}` }

function get(path: string, headers: Record<string, string> = asOperator): Request {
  return new Request(`http://shop.test${path}`, { headers })
}

function post(path: string, body?: unknown, type = 'application/json', headers = asOperator): Request {
  return new Request(`http://shop.test${path}`, {
    method: 'POST',
    headers: { 'content-type': type, ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  })
}

describe('createMerchantApp', () => {
  it('prices the cart on the server and creates the order from that price', async () => {
    const orders = fakeOrders()
    const app = createMerchantApp({ orders, shopConfig, operatorToken: OPERATOR_TOKEN })
    const res = await app.fetch(
      post('/api/checkout', { items: [{ productId: 'celadon-cup', quantity: 2, price: '0.01' }] }),
    )
    expect(res.status).toBe(201)
    expect(orders.calls).toEqual([['create', { subject: '2 × Celadon tea cup', amount: '79.80' }]])
  })

  it('answers a bad cart with problem+json and a stable code', async () => {
    const app = createMerchantApp({ orders: fakeOrders(), shopConfig, operatorToken: OPERATOR_TOKEN })
    const res = await app.fetch(post('/api/checkout', { items: [{ productId: 'caviar', quantity: 1 }] }))
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
    expect(await res.json()).toMatchObject({ code: 'UNKNOWN_PRODUCT', status: 400 })
  })

  it('maps the order service’s typed errors to HTTP statuses', async () => {
    const orders = fakeOrders({
      get: () =>
        Promise.reject(Object.assign(new Error('[alipay] order D1 does not exist'), { code: 'ORDER_NOT_EXIST' })),
    })
    const res = await createMerchantApp({ orders, shopConfig, operatorToken: OPERATOR_TOKEN }).fetch(
      get('/api/orders/D1'),
    )
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'ORDER_NOT_EXIST', detail: 'order D1 does not exist' })
  })

  it('hides unexpected errors behind a generic 500 and logs them', async () => {
    const lines: string[] = []
    const orders = fakeOrders({ list: () => Promise.reject(new Error('disk on fire')) })
    const res = await createMerchantApp({
      orders,
      shopConfig,
      operatorToken: OPERATOR_TOKEN,
      log: (l) => lines.push(l),
    }).fetch(get('/api/orders'))
    expect(res.status).toBe(500)
    expect(JSON.stringify(await res.json())).not.toContain('disk')
    expect(lines.join()).toContain('disk on fire')
  })

  it('passes the verified details to confirm, strings only', async () => {
    const orders = fakeOrders()
    const app = createMerchantApp({ orders, shopConfig, operatorToken: OPERATOR_TOKEN })
    const res = await app.fetch(post('/api/orders/D1/confirm', { details: { success: 'true', sign: 'abc', n: 1 } }))
    expect(res.status).toBe(200)
    expect(orders.calls).toEqual([['confirm', 'D1', { success: 'true', sign: 'abc' }]])
  })

  it('accepts the seed aliases of the pay types and refuses others', async () => {
    const orders = fakeOrders()
    const app = createMerchantApp({ orders, shopConfig, operatorToken: OPERATOR_TOKEN })
    expect((await app.fetch(post('/api/orders/D1/pay-url', { payType: 'mobile' }))).status).toBe(200)
    expect(orders.calls).toEqual([['payUrl', 'D1', 'WAP_PAY']])
    const bad = await app.fetch(post('/api/orders/D1/pay-url', { payType: 'CASH' }))
    expect(await bad.json()).toMatchObject({ code: 'UNKNOWN_PAY_TYPE' })
  })

  it('answers a notify with exactly what the order service decided', async () => {
    const orders = fakeOrders()
    const app = createMerchantApp({ orders, shopConfig, operatorToken: OPERATOR_TOKEN })
    const res = await app.fetch(
      post(
        '/api/notify',
        'out_trade_no=D1&trade_status=TRADE_SUCCESS&notify_id=a%2Fb',
        'application/x-www-form-urlencoded',
      ),
    )
    expect(await res.text()).toBe('success')
    expect(orders.calls).toEqual([
      ['notify', { out_trade_no: 'D1', trade_status: 'TRADE_SUCCESS', notify_id: 'a/b' }, 'utf-8'],
    ])
  })

  it('answers "fail" when a notify cannot be processed, so the gateway retries', async () => {
    const orders = fakeOrders({ notify: () => Promise.reject(new Error('db locked')) })
    const res = await createMerchantApp({ orders, shopConfig, operatorToken: OPERATOR_TOKEN, log: () => {} }).fetch(
      post('/api/notify', 'out_trade_no=D1', 'application/x-www-form-urlencoded'),
    )
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('fail')
  })

  it('answers only its own hosts when told them (421 misdirected-host), notifies included', async () => {
    const orders = fakeOrders()
    const app = createMerchantApp({
      orders,
      shopConfig,
      operatorToken: OPERATOR_TOKEN,
      hosts: ['shop.test', 'shop.test:80'],
    })
    expect((await app.fetch(get('/api/orders'))).status).toBe(200)
    const rebound = await app.fetch(
      new Request('http://evil.test/api/orders/D1/cancel', { method: 'POST', headers: { origin: 'http://evil.test' } }),
    )
    expect(rebound.status).toBe(421)
    expect(rebound.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await rebound.json()).toMatchObject({ code: 'misdirected-host', status: 421 })
    expect((await app.fetch(post('/api/notify', 'out_trade_no=D1', 'application/x-www-form-urlencoded'))).status).toBe(
      200,
    )
    expect(orders.calls.map(([name]) => name)).toEqual(['list', 'notify'])
  })

  it('serves /config.json and the built pages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shop-'))
    writeFileSync(join(dir, 'index.html'), '<h1>shop</h1>')
    const app = createMerchantApp({ orders: fakeOrders(), shopConfig, publicDir: dir })
    expect(await (await app.fetch(new Request('http://shop.test/config.json'))).json()).toEqual(shopConfig)
    expect(await (await app.fetch(new Request('http://shop.test/'))).text()).toBe('<h1>shop</h1>')
    expect((await app.fetch(new Request('http://shop.test/nope.html'))).status).toBe(404)
  })

  it('serves each page with a fresh script nonce in its CSP and on its scripts, never unsafe-inline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shop-'))
    writeFileSync(
      join(dir, 'checkout.html'),
      '<link rel="modulepreload" crossorigin href="/assets/a.js"><script type="module" src="/assets/b.js"></script>',
    )
    const app = createMerchantApp({
      orders: fakeOrders(),
      shopConfig,
      publicDir: dir,
      formActionOrigins: ['https://gateway.example'],
    })
    const nonces = new Set<string>()
    for (let i = 0; i < 2; i++) {
      const res = await app.fetch(new Request('http://shop.test/checkout.html'))
      const csp = res.headers.get('content-security-policy') ?? ''
      const nonce = /script-src 'nonce-([^']+)' 'strict-dynamic'/.exec(csp)?.[1]
      expect(nonce).toBeDefined()
      nonces.add(nonce!)
      expect(csp).not.toContain('unsafe-inline')
      expect(csp).toContain("form-action 'self' https://gateway.example")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(res.headers.get('cache-control')).toBe('no-store')
      const html = await res.text()
      expect(html).toContain(`<script nonce="${nonce}" type="module"`)
      expect(html).toContain(`<link rel="modulepreload" nonce="${nonce}"`)
    }
    expect(nonces.size).toBe(2)
    // Everything that is not a page may run no script at all.
    const api = await app.fetch(get('/api/products'))
    expect(api.headers.get('content-security-policy')).toContain("script-src 'none'")
  })
})
