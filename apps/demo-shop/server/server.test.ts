import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { DEMO_BUYER, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { verifyParams } from '@alipay-payment-handler/protocol'
import type { OrderView, PaymentDataView, PayUrlView } from '../common/views.js'
import { startMerchant, type RunningMerchant } from './server.js'

// The merchant backend over real HTTP, against the real sandbox gateway, with real SQLite files.
let dataDir: string
let sandbox: RunningSandbox
let merchant: RunningMerchant

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'merchant-test-'))
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => undefined }))
  merchant = await startMerchant({
    port: 0,
    appOrigin: 'http://localhost:4200',
    gatewayUrl: sandbox.gatewayUrl,
    partner: demoPartnerConfig(),
    dataDir,
    logger: silentLogger(),
  })
})

afterAll(async () => {
  await merchant?.close()
  await sandbox?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** A call as the shop's operator, who may reach every order (buyers' tokens: tests/security). */
async function api<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${merchant.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.operatorToken}` },
    body: body === undefined ? null : JSON.stringify(body),
  })
  const json = (await response.json()) as T
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { body: json })
  return json
}

/** Pays a gateway pay URL the way a buyer's browser does: open the cashier, log in, pay. */
async function payAtCashier(payUrl: string): Promise<void> {
  const opened = await fetch(payUrl, { redirect: 'manual' })
  const cashier = new URL(opened.headers.get('location')!, sandbox.url)
  const paid = await fetch(`${cashier.href}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: DEMO_BUYER.login, password: DEMO_BUYER.password }),
    redirect: 'manual',
  })
  expect(paid.status).toBe(303)
}

async function waitFor(orderId: string, status: OrderView['status']): Promise<OrderView> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const order = await api<OrderView>(`/api/orders/${orderId}`)
    if (order.status === status || Date.now() > deadline) return order
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

it('signs payment data that verifies with the partner key and points notifies at the shop', async () => {
  const order = await api<OrderView>('/api/checkout', { items: [{ productId: 'tea-sachet', quantity: 3 }] })
  const { data, total } = await api<PaymentDataView>(`/api/orders/${order.orderId}/payment-data`, {})
  expect(total).toEqual({ currency: 'CNY', value: '0.03' })
  expect(data).toMatchObject({
    out_trade_no: order.orderId,
    total_fee: '0.03',
    notify_url: `${merchant.url}/api/notify`,
  })
  expect(await verifyParams(data, { keys: { md5Key: DEMO_PARTNER.md5Key } })).toMatchObject({ ok: true })
})

it('turns paid by the gateway’s notify alone, lists the notify, then refunds in full', async () => {
  const order = await api<OrderView>('/api/checkout', { items: [{ productId: 'celadon-cup', quantity: 1 }] })
  expect(order).toMatchObject({ status: 'wait', amount: '39.90', notifies: [] })
  const { payUrl, qrCode } = await api<PayUrlView>(`/api/orders/${order.orderId}/pay-url`, { payType: 'PRE_PAY' })
  expect(qrCode).toMatch(/^data:image\/png;base64,/)
  await payAtCashier(payUrl!)

  const paid = await waitFor(order.orderId, 'success')
  expect(paid.status).toBe('success')
  expect(paid.gatewayStatus).toBe('TRADE_SUCCESS')
  expect(paid.notifies).toEqual([
    expect.objectContaining({ notifyType: 'trade_status_sync', tradeStatus: 'TRADE_SUCCESS', verified: true }),
  ])
  expect((await api<OrderView[]>('/api/orders'))[0]?.orderId).toBe(order.orderId)

  const refunded = await api<OrderView>(`/api/orders/${order.orderId}/refund`, {})
  expect(refunded).toMatchObject({ status: 'refund', refundedAmount: '39.90' })
})

it('refuses a forged PaymentResponse and keeps the order unpaid', async () => {
  const order = await api<OrderView>('/api/checkout', { items: [{ productId: 'tea-sachet', quantity: 1 }] })
  const forged = {
    success: 'true',
    out_trade_no: order.orderId,
    total_fee: order.amount,
    trade_status: 'TRADE_SUCCESS',
    trade_no: '2026010122001000000000000001',
    notify_id: 'x',
    notify_time: '2026-01-01 12:00:00',
    notify_type: 'trade_status_sync',
    sign_type: 'MD5',
    sign: '0'.repeat(32),
  }
  const error = (await api(`/api/orders/${order.orderId}/confirm`, { details: forged }).catch((e: unknown) => e)) as {
    body: unknown
  }
  expect(error.body).toMatchObject({ code: 'INVALID_SIGNATURE', status: 400 })
  expect((await api<OrderView>(`/api/orders/${order.orderId}`)).status).toBe('wait')
})

it('gives the WAP form for the mobile route', async () => {
  const order = await api<OrderView>('/api/checkout', { items: [{ productId: 'tea-sachet', quantity: 1 }] })
  const { form } = await api<PayUrlView>(`/api/orders/${order.orderId}/pay-url`, { payType: 'mobile' })
  expect(form).toContain('alipay.wap.create.direct.pay.by.user')
  expect(form).toContain(`value="${merchant.url}/return.html"`)
})

it('reconciliation finds an order paid at the gateway whose notifies were all lost, and pays it once', async () => {
  // Every delivery of every notify fails: the gateway has the money, the shop has heard nothing.
  sandbox.deps.faults.update({ dropNotifyAttempts: 8 })
  try {
    const created = await api<OrderView>('/api/checkout', { items: [{ productId: 'tea-sachet', quantity: 1 }] })
    const { payUrl } = await api<PayUrlView>(`/api/orders/${created.orderId}/pay-url`, { payType: 'PRE_PAY' })
    await payAtCashier(payUrl!)
    expect((await api<OrderView>(`/api/orders/${created.orderId}`)).status).toBe('wait')

    const report = await api<{ repaired: { orderId: string }[]; needsHuman: unknown[] }>('/api/reconciliation', {})
    expect(report.repaired.map((r) => r.orderId)).toContain(created.orderId)
    expect((await api<OrderView>(`/api/orders/${created.orderId}`)).status).toBe('success')
    expect(await api<{ runId: number } | null>('/api/reconciliation')).toMatchObject({ runId: expect.any(Number) })

    // A second run finds nothing left to repair for this order.
    const again = await api<{ repaired: { orderId: string }[] }>('/api/reconciliation', {})
    expect(again.repaired.map((r) => r.orderId)).not.toContain(created.orderId)
  } finally {
    sandbox.deps.faults.reset()
  }
})
