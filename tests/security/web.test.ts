import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeForm } from '@alipay-payment-handler/protocol'
import { payParams, signRequest } from '@alipay-payment-handler/sandbox/testing'
import {
  call,
  createSession,
  eventually,
  merchantOrder,
  payOrder,
  placeOrder,
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

/** Payloads that must never reach a page as markup. */
const XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'><svg onload=alert(1)>"]

function expectNoMarkup(html: string) {
  expect(html).not.toContain('<script>alert(1)')
  expect(html).not.toMatch(/<img src=x onerror/i)
  expect(html).not.toMatch(/<svg onload/i)
}

describe('browser-facing attacks on the servers', () => {
  it('attack: CSRF on the merchant’s state-changing routes is refused', async () => {
    const order = await placeOrder(stack)
    const routes = ['cancel', 'check', 'payment-data', 'refund', 'confirm', 'pay-url']
    for (const route of routes) {
      // A form on another site posting text/plain (no preflight), and a cross-site fetch.
      const crossOrigin = await call(`${stack.merchant.url}/api/orders/${order.orderId}/${route}`, {
        method: 'POST',
        body: '{"amount":"1.00"}',
        headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      })
      expect(crossOrigin.status, route).toBe(403)
      const fetchMetadata = await call(`${stack.merchant.url}/api/orders/${order.orderId}/${route}`, {
        method: 'POST',
        headers: { 'sec-fetch-site': 'cross-site' },
      })
      expect(fetchMetadata.status, route).toBe(403)
    }
    const checkout = await call(`${stack.merchant.url}/api/checkout`, {
      body: { items: [{ productId: 'celadon-cup', quantity: 1 }] },
      headers: { origin: 'https://evil.example' },
    })
    expect(checkout.status).toBe(403)
    // The shop's own pages (same origin) still work.
    const own = await call(`${stack.merchant.url}/api/orders/${order.orderId}/cancel`, {
      method: 'POST',
      headers: { origin: stack.merchant.url, 'sec-fetch-site': 'same-origin' },
    })
    expect(own.status).toBe(200)
    expect((await merchantOrder(stack, order.orderId)).status).toBe('close')
    // Server-to-server notifies carry no Origin and stay open.
    const notify = await fetch(`${stack.merchant.url}/api/notify`, { method: 'POST', body: 'a=b' })
    expect(notify.status).toBeLessThan(500)
  })

  it('attack: XSS through subject and body is escaped on the gateway cashier and the signing server pages', async () => {
    for (const payload of XSS) {
      const signed = await signRequest(payParams({ subject: `cup ${payload}`.slice(0, 128), body: payload }))
      const toCashier = await fetch(`${stack.sandbox.gatewayUrl}?${encodeForm(signed)}`, { redirect: 'manual' })
      const location = toCashier.headers.get('location')
      expect(toCashier.status).toBe(302)
      const cashier = await (await fetch(new URL(location!, stack.sandbox.gatewayUrl))).text()
      expect(cashier).toContain('cup ')
      expectNoMarkup(cashier)
    }
    // Every echoed parameter on the gateway's error page.
    for (const payload of XSS) {
      const error = await fetch(`${stack.sandbox.gatewayUrl}?${encodeForm({ service: payload, partner: payload })}`, {
        headers: { accept: 'text/html' },
      })
      expectNoMarkup(await error.text())
    }
    // The signing server's cashier form echoes every signed field.
    const order = await placeOrder(stack)
    const data = (await call(`${stack.merchant.url}/api/orders/${order.orderId}/payment-data`, { method: 'POST' })).json
    const session = await createSession(stack, data.data, data.total)
    const form = await fetch(`${stack.signing.url}/api/sessions/${session.json.sessionId}/cashier`)
    expect(form.headers.get('content-security-policy')).toMatch(/script-src 'self' 'nonce-/)
    // Not-found routes echo the path: as JSON, never as HTML.
    const notFound = await fetch(`${stack.signing.url}/api/${encodeURIComponent(XSS[0]!)}`)
    expect(notFound.headers.get('content-type')).toMatch(/json/)
    const shopNotFound = await fetch(`${stack.merchant.url}/api/${encodeURIComponent(XSS[0]!)}`)
    expect(shopNotFound.headers.get('content-type')).toMatch(/json/)
  })

  it('attack: open redirect through return_url/show_url is refused', async () => {
    for (const url of ['javascript:alert(1)', '//evil.example/', 'data:text/html,<script>alert(1)</script>']) {
      for (const field of ['return_url', 'show_url', 'notify_url']) {
        const signed = await signRequest(payParams({ service: 'alipay.wap.create.direct.pay.by.user', [field]: url }))
        const answer = await fetch(`${stack.sandbox.gatewayUrl}?${encodeForm(signed)}`, { redirect: 'manual' })
        expect(answer.status, `${field}=${url}`).not.toBe(302)
      }
    }
    // The signing server builds return_url and show_url itself: the merchant's data cannot name them.
    const order = await placeOrder(stack)
    const data = (await call(`${stack.merchant.url}/api/orders/${order.orderId}/payment-data`, { method: 'POST' })).json
    const session = await createSession(stack, data.data, data.total)
    const cashier = new URL(session.json.cashierUrl)
    expect(cashier.searchParams.get('return_url')).toMatch(new RegExp(`^${stack.signing.url}/pay/return/`))
    // merchantOrigin must be a listed origin: no show_url to a stranger's site.
    const foreign = await createSession(stack, data.data, data.total, 'https://evil.example')
    expect(foreign.status).toBe(403)
    expect(foreign.json.type).toMatch(/origin-not-allowed/)
  })

  it('attack: the checkout and the shop framed by another site are refused (frame-ancestors)', async () => {
    const paid = await payOrder(stack)
    await eventually(async () => (await merchantOrder(stack, paid.orderId)).status === 'success')
    const pages = [
      `${stack.signing.url}/pay/checkout.html`,
      `${stack.signing.url}/pay/return/${paid.sessionId}`,
      `${stack.signing.url}/api/sessions/${paid.sessionId}/cashier`,
      `${stack.merchant.url}/`,
      `${stack.merchant.url}/checkout.html`,
      `${stack.merchant.url}/api/products`,
    ]
    for (const page of pages) {
      const response = await fetch(page)
      const csp = response.headers.get('content-security-policy') ?? ''
      const xfo = response.headers.get('x-frame-options') ?? ''
      expect(/frame-ancestors 'none'/.test(csp) || /deny/i.test(xfo), page).toBe(true)
    }
    const cashier = await fetch(`${stack.sandbox.url}/cashier/anything`)
    const cashierCsp = cashier.headers.get('content-security-policy') ?? ''
    expect(
      /frame-ancestors/.test(cashierCsp) || /deny|sameorigin/i.test(cashier.headers.get('x-frame-options') ?? ''),
    ).toBe(true)
  })
})
