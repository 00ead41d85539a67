import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createTestDatabase, type TestDatabase } from '@alipay-payment-handler/testing/postgres'
import type { OrderView, PayUrlView } from '../common/views.js'
import { startMerchant, type RunningMerchant } from './server.js'

// Two shop processes on one PostgreSQL database (DATABASE_URL), against the real sandbox.
let dataDir: string
let database: TestDatabase
let sandbox: RunningSandbox
const shops: RunningMerchant[] = []

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'merchant-shared-'))
  database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => undefined }))
  // What a deployment of several shop processes shares besides the database.
  const shared = {
    operatorToken: 'operator-token-of-both-shops-0001',
    orderViewSecret: 'view-secret-of-both-shops-000001',
  }
  for (const name of ['a', 'b']) {
    shops.push(
      await startMerchant({
        port: 0,
        appOrigin: 'http://localhost:4200',
        gatewayUrl: sandbox.gatewayUrl,
        partner: demoPartnerConfig(),
        dataDir: join(dataDir, name),
        databaseUrl: database.url,
        logger: silentLogger(),
        ...shared,
      }),
    )
  }
})

afterAll(async () => {
  for (const shop of shops) await shop.close()
  await sandbox?.close()
  await database?.drop()
  rmSync(dataDir, { recursive: true, force: true })
})

/** The buyer's view token of the order under test, once checkout gave it. */
let viewToken: string | undefined

async function api<T>(shop: RunningMerchant, path: string, body?: unknown, asOperator = false): Promise<T> {
  const response = await fetch(`${shop.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'content-type': 'application/json',
      ...(viewToken ? { 'order-view-token': viewToken } : {}),
      // Both shops accept the one operator token they were given.
      ...(asOperator ? { authorization: `Bearer ${shop.operatorToken}` } : {}),
    },
    body: body === undefined ? null : JSON.stringify(body),
  })
  const json = (await response.json()) as T
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { body: json })
  return json
}

it('serves one set of orders from both processes: created on one, paid by its notify, listed and refunded on the other', async () => {
  const [a, b] = shops as [RunningMerchant, RunningMerchant]
  const order = await api<OrderView & { viewToken: string }>(a, '/api/checkout', {
    items: [{ productId: 'celadon-cup', quantity: 1 }],
  })
  // A token made by one process opens the order on the other (they share the secret).
  viewToken = order.viewToken
  expect(await api<OrderView>(b, `/api/orders/${order.orderId}`)).toMatchObject({ status: 'wait', amount: '39.90' })
  const { payUrl } = await api<PayUrlView>(b, `/api/orders/${order.orderId}/pay-url`, { payType: 'PRE_PAY' })
  const opened = await fetch(payUrl!, { redirect: 'manual' })
  const cashier = new URL(opened.headers.get('location')!, sandbox.url)
  const paid = await fetch(`${cashier.href}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: DEMO_BUYER.login, password: DEMO_BUYER.password }),
    redirect: 'manual',
  })
  expect(paid.status).toBe(303)
  // The order's notify_url is the shop it was paid from (b); `check` on a asks the gateway meanwhile.
  let seen = await api<OrderView>(a, `/api/orders/${order.orderId}/check`, {})
  for (let i = 0; seen.status !== 'success' && i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    seen = await api<OrderView>(a, `/api/orders/${order.orderId}`)
  }
  expect(seen.status).toBe('success')
  expect((await api<OrderView[]>(b, '/api/orders', undefined, true)).map((o) => o.orderId)).toContain(order.orderId)
  expect(await api<OrderView>(b, `/api/orders/${order.orderId}/refund`, {}, true)).toMatchObject({
    status: 'refund',
    refundedAmount: '39.90',
  })
  // The refund is the whole amount: the other process cannot reserve a second one.
  await expect(api(a, `/api/orders/${order.orderId}/refund`, {}, true)).rejects.toThrow(/HTTP 4\d\d/)
}, 30_000)
