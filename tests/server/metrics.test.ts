import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  asOperator,
  eventually,
  merchantOrder,
  payOrder,
  startSecurityStack,
  type SecurityStack,
} from '../security/support/stack.js'

// The three servers over real sockets: one payment, then what Prometheus would scrape.
let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

/** The value of one series in a text exposition, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

describe('GET /metrics after a payment', () => {
  it('the payment app shows request latency, sessions, notifies, the outbox and gateway calls', async () => {
    const paid = await payOrder(stack)
    await eventually(async () => (await merchantOrder(stack, paid.orderId)).status === 'success')
    const scrape = async () => {
      const response = await fetch(`${stack.signing.url}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/plain')
      return response.text()
    }
    // The relay forwards the notify on its own schedule: wait for the counter, not for time.
    const text = await eventually(async () => {
      const body = await scrape()
      return (sample(body, 'alipay_payment_app_notifies_total', { stage: 'forwarded' }) ?? 0) >= 1 ? body : undefined
    })
    const p = 'alipay_payment_app_'
    expect(
      sample(text, `${p}http_request_duration_seconds_count`, {
        method: 'POST',
        route: '/api/sessions',
        status: '201',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(sample(text, `${p}sessions`, { state: 'paid' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, `${p}notifies_total`, { stage: 'received' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, `${p}notifies_total`, { stage: 'verified' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, `${p}notifies_total`, { stage: 'failed' })).toBeDefined()
    expect(sample(text, `${p}outbox_depth`)).toBeGreaterThanOrEqual(0)
    expect(sample(text, `${p}outbox_oldest_age_seconds`)).toBeGreaterThanOrEqual(0)
    const gatewayOrigin = new URL(stack.sandbox.gatewayUrl).origin
    expect(
      sample(text, `${p}outbound_call_duration_seconds_count`, {
        purpose: 'gateway',
        origin: gatewayOrigin,
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(text, `${p}outbound_call_duration_seconds_count`, { purpose: 'notify', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1)
    // Route patterns, never raw ids: a session id never becomes a label.
    expect(text).not.toContain(paid.sessionId)
  })

  it('the merchant server shows its request latency and gateway calls to its operator only', async () => {
    await payOrder(stack)
    expect((await fetch(`${stack.merchant.url}/metrics`)).status).toBe(403)
    const response = await fetch(`${stack.merchant.url}/metrics`, { headers: asOperator(stack) })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(
      sample(text, 'alipay_merchant_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/checkout',
        status: '201',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(text, 'alipay_merchant_http_request_duration_seconds_count', {
        route: '/api/orders/:id/payment-data',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(text, 'alipay_merchant_outbound_call_duration_seconds_count', { purpose: 'gateway' }),
    ).toBeGreaterThanOrEqual(1)
  })
})
