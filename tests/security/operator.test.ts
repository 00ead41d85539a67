import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { priceAsAsked } from '../support/harness.js'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { createMerchant, operatorTokenAuthorizer, type Merchant } from '@alipay-payment-handler/merchant'
import {
  asOperator,
  call,
  eventually,
  merchantOrder,
  payOrder,
  placeOrder,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

/**
 * Who may do what to an order: anyone may buy, a buyer reaches only the order their browser
 * placed (its view token), and refunds, the order list and reconciliation are the operator's.
 */
let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

const PROBLEM = 'application/problem+json'

describe('the demo shop', () => {
  it('attack: a buyer’s curl refund of their own paid order is refused (OPERATOR_REQUIRED)', async () => {
    const paid = await payOrder(stack)
    await eventually(async () => (await merchantOrder(stack, paid.orderId)).status === 'success')
    // The buyer's browser holds the order's view token (the checkout's cookie): it is not enough.
    const refund = await call(`${stack.merchant.url}/api/orders/${paid.orderId}/refund`, { body: {} })
    expect(refund.status).toBe(403)
    expect(refund.type).toContain(PROBLEM)
    expect(refund.json).toMatchObject({ code: 'OPERATOR_REQUIRED', status: 403 })
    expect((await merchantOrder(stack, paid.orderId)).status).toBe('success')
    // The operator's token does it.
    const byOperator = await call(`${stack.merchant.url}/api/orders/${paid.orderId}/refund`, {
      body: {},
      headers: asOperator(stack),
    })
    expect(byOperator.status).toBe(200)
    expect(byOperator.json.status).toBe('refund')
  })

  it('attack: listing every order and reconciling are refused to buyers and strangers', async () => {
    await placeOrder(stack)
    for (const [method, path] of [
      ['GET', '/api/orders'],
      ['GET', '/api/reconciliation'],
      ['POST', '/api/reconciliation'],
    ] as const) {
      const answer = await call(`${stack.merchant.url}${path}`, { method, ...(method === 'POST' ? { body: {} } : {}) })
      expect(answer.status, `${method} ${path}`).toBe(403)
      expect(answer.type).toContain(PROBLEM)
      expect(answer.json.code).toBe('OPERATOR_REQUIRED')
      // A made-up bearer token is no better.
      const guessed = await call(`${stack.merchant.url}${path}`, {
        method,
        headers: { authorization: 'Bearer 0123456789abcdef0123456789abcdef' },
        ...(method === 'POST' ? { body: {} } : {}),
      })
      expect(guessed.json.code).toBe('OPERATOR_REQUIRED')
    }
    expect((await call(`${stack.merchant.url}/api/orders`, { headers: asOperator(stack) })).status).toBe(200)
  })

  it('attack: cancelling, checking or reading another buyer’s order is refused (ORDER_VIEW_DENIED)', async () => {
    const victim = await placeOrder(stack)
    const mine = (await call(`${stack.merchant.url}/api/checkout`, {
      body: { items: [{ productId: 'tea-sachet', quantity: 1 }] },
    })) as { json: { orderId: string; viewToken: string } }
    for (const [method, route] of [
      ['GET', ''],
      ['POST', '/cancel'],
      ['POST', '/check'],
      ['POST', '/payment-data'],
      ['POST', '/pay-url'],
    ] as const) {
      const url = `${stack.merchant.url}/api/orders/${victim.orderId}${route}`
      const body = method === 'POST' ? { body: route === '/pay-url' ? { payType: 'PRE_PAY' } : {} } : {}
      // A stranger with no token, and a buyer showing the token of their own, other order.
      const stranger = await call(url, { method, anonymous: true, ...body })
      const otherBuyer = await call(url, {
        method,
        anonymous: true,
        headers: { 'order-view-token': mine.json.viewToken },
        ...body,
      })
      for (const answer of [stranger, otherBuyer]) {
        expect(answer.status, `${method} ${route}`).toBe(403)
        expect(answer.type).toContain(PROBLEM)
        expect(answer.json.code).toBe('ORDER_VIEW_DENIED')
        expect(answer.text).not.toContain(victim.amount)
      }
    }
    expect((await merchantOrder(stack, victim.orderId)).status).toBe('wait')
    // The victim's own browser (its cookie) still reads its order.
    const own = await call(`${stack.merchant.url}/api/orders/${victim.orderId}`)
    expect(own.status).toBe(200)
    expect(own.json.amount).toBe(victim.amount)
  })

  it('the view token’s cookie is HttpOnly and sent to that order’s routes only', async () => {
    const created = await call(`${stack.merchant.url}/api/checkout`, {
      anonymous: true,
      body: { items: [{ productId: 'tea-sachet', quantity: 1 }] },
    })
    const cookie = created.headers.getSetCookie().find((line) => line.startsWith('order_view='))
    expect(cookie).toContain(`Path=/api/orders/${created.json.orderId}`)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain(created.json.viewToken)
    // Two orders never share a token.
    const other = await call(`${stack.merchant.url}/api/checkout`, {
      anonymous: true,
      body: { items: [{ productId: 'tea-sachet', quantity: 1 }] },
    })
    expect(other.json.viewToken).not.toBe(created.json.viewToken)
    // A checkout link opened elsewhere sends the token as a header: that browser gets the cookie.
    const viaLink = await call(`${stack.merchant.url}/api/orders/${other.json.orderId}`, {
      anonymous: true,
      headers: { 'order-view-token': other.json.viewToken },
    })
    expect(viaLink.status).toBe(200)
    expect(viaLink.headers.getSetCookie().join()).toContain(`Path=/api/orders/${other.json.orderId}`)
  })

  it('the orders page’s login takes only the printed token and sets an HttpOnly cookie', async () => {
    const wrong = await call(`${stack.merchant.url}/api/operator/login`, {
      anonymous: true,
      body: { token: 'not-the-token-not-the-token' },
    })
    expect(wrong.status).toBe(403)
    expect(wrong.json.code).toBe('OPERATOR_TOKEN_WRONG')
    expect(wrong.headers.getSetCookie()).toEqual([])
    const right = await call(`${stack.merchant.url}/api/operator/login`, {
      anonymous: true,
      body: { token: stack.merchant.operatorToken },
    })
    expect(right.status).toBe(200)
    const cookie = right.headers.getSetCookie()[0] ?? ''
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const list = await call(`${stack.merchant.url}/api/orders`, {
      anonymous: true,
      headers: { cookie: cookie.split(';')[0]! },
    })
    expect(list.status).toBe(200)
    // Another site cannot log a browser in (CSRF guard), whatever it knows.
    const crossSite = await call(`${stack.merchant.url}/api/operator/login`, {
      anonymous: true,
      headers: { origin: 'https://evil.example' },
      body: { token: stack.merchant.operatorToken },
    })
    expect(crossSite.status).toBe(403)
  })
})

describe('createMerchant’s routes', () => {
  let merchant: Merchant
  let guarded: Merchant
  const OPERATOR_TOKEN = 'a-long-operator-token-for-the-test'
  beforeAll(async () => {
    const base = {
      partner: demoPartnerConfig(),
      gatewayUrl: stack.sandbox.gatewayUrl,
      notifyUrl: 'http://127.0.0.1:1/notify',
      priceOrder: priceAsAsked,
    }
    merchant = await createMerchant({ ...base, database: join(stack.dir, 'package-orders.db') })
    guarded = await createMerchant({
      ...base,
      database: join(stack.dir, 'package-orders-2.db'),
      authorizeOperator: operatorTokenAuthorizer(OPERATOR_TOKEN),
    })
  })
  afterAll(() => {
    merchant.close()
    guarded.close()
  })

  const request = (m: Merchant, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) =>
    m.handler.fetch(
      new Request(`http://merchant.test${path}`, {
        method: init.body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...init.headers },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      }),
    )

  it('without an operator hook, refunds and reconciliation refuse everyone, the buyer included', async () => {
    const created = await request(merchant, '/orders', { body: { subject: 'tea', amount: '1.00' } })
    expect(created.status).toBe(201)
    const order = (await created.json()) as { orderId: string; viewToken: string }
    const buyer = { 'order-view-token': order.viewToken }
    for (const [path, body] of [
      [`/orders/${order.orderId}/refund`, { amount: '1.00' }],
      ['/orders/reconcile', {}],
      ['/orders/reconciliation', undefined],
      [`/orders/${order.orderId}/refunds`, undefined],
    ] as const) {
      const answer = await request(merchant, path, { headers: buyer, ...(body ? { body } : {}) })
      expect(answer.status, path).toBe(403)
      expect(answer.headers.get('content-type')).toContain(PROBLEM)
      expect(await answer.json()).toMatchObject({ code: 'OPERATOR_REQUIRED' })
    }
    // The buyer reads their own order with its token, and nobody reads it without.
    expect((await request(merchant, `/orders/${order.orderId}`, { headers: buyer })).status).toBe(200)
    const stranger = await request(merchant, `/orders/${order.orderId}`)
    expect(stranger.status).toBe(403)
    expect(await stranger.json()).toMatchObject({ code: 'ORDER_VIEW_DENIED' })
    const cancel = await request(merchant, `/orders/${order.orderId}/cancel`, { body: {} })
    expect(await cancel.json()).toMatchObject({ code: 'ORDER_VIEW_DENIED' })
  })

  it('with the hook, its operator reaches every route and a wrong token is refused', async () => {
    const created = (await (
      await request(guarded, '/orders', { body: { subject: 'tea', amount: '1.00' } })
    ).json()) as { orderId: string }
    const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` }
    expect((await request(guarded, `/orders/${created.orderId}`, { headers: operator })).status).toBe(200)
    expect((await request(guarded, `/orders/${created.orderId}/refunds`, { headers: operator })).status).toBe(200)
    const wrong = await request(guarded, `/orders/${created.orderId}/refunds`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}x` },
    })
    expect(wrong.status).toBe(403)
    const cancelled = await request(guarded, `/orders/${created.orderId}/cancel`, { body: {}, headers: operator })
    expect(cancelled.status).toBe(200)
    expect(((await cancelled.json()) as { status: string }).status).toBe('close')
  })
})
