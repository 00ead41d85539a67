import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_APP, DEMO_GATEWAY_RSA, tempDir } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createPaymentGateway } from '@alipay-payment-handler/gateway-client'
import { createOrderService, openSqliteOrderStore } from '@alipay-payment-handler/merchant'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import type { CounterView } from '../common/views.js'
import { createMerchantApp } from './app.js'
import { createCounterDesk } from './counter.js'
import { openShopLedger } from './shop-ledger.js'
import type { ShopOrders } from './shop-orders.js'

/** The counter routes over a real order service and the sandbox (openapi), without a browser. */
describe('the counter routes', () => {
  const tmp = tempDir()
  let sandbox: RunningSandbox
  let app: ReturnType<typeof createMerchantApp>
  const closers: (() => void)[] = []

  beforeAll(async () => {
    sandbox = await startSandbox(demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, log: () => {} }))
    const store = openSqliteOrderStore(`${tmp.dir}/orders.db`)
    const ledger = openShopLedger(`${tmp.dir}/shop.db`)
    closers.push(
      () => store.close(),
      () => ledger.close(),
    )
    const service = createOrderService({
      store,
      gateway: createPaymentGateway({
        kind: 'openapi',
        gatewayUrl: sandbox.gatewayUrl,
        appId: DEMO_APP.appId,
        privateKey: DEMO_APP.privateKey,
        publicKey: DEMO_GATEWAY_RSA.publicKey,
        sellerId: DEMO_APP.sellerId,
      }),
      notifyUrl: 'http://127.0.0.1:9/api/notify',
      logger: silentLogger(),
    })
    const counter = createCounterDesk({ service, ledger, polling: { pollIntervalMs: 20, timeLimitMs: 60_000 } })
    app = createMerchantApp({
      orders: {} as ShopOrders,
      counter,
      shopConfig: { appOrigin: 'http://app.test', sandbox: true },
      rateLimits: false,
      log: () => {},
    })
  })
  afterAll(async () => {
    await sandbox.close()
    for (const close of closers) close()
    tmp.cleanup()
  })

  const post = (path: string, body?: unknown) =>
    app.fetch(
      new Request(`http://shop.test${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      }),
    )
  const stage = async (id: string) =>
    ((await (await app.fetch(new Request(`http://shop.test/api/counter/payments/${id}`))).json()) as CounterView).stage

  it('starts a payment (202), follows its stage, and cancels it on request', async () => {
    const started = await post('/api/counter/payments', { amount: '9.90', authCode: '281000000000003000' })
    expect(started.status).toBe(202)
    const view = (await started.json()) as CounterView
    expect(view).toMatchObject({ amount: '9.90', stage: 'paying' })
    await expect.poll(() => stage(view.orderId)).toBe('waiting-for-password')
    expect((await post(`/api/counter/payments/${view.orderId}/cancel`)).status).toBe(200)
    await expect.poll(() => stage(view.orderId)).toBe('cancelled')
  })

  it('a plain code ends paid; refusals are problems with stable codes', async () => {
    const view = (await (
      await post('/api/counter/payments', { amount: '1.00', authCode: '281000000000000001' })
    ).json()) as CounterView
    await expect.poll(() => stage(view.orderId)).toBe('paid')
    const badCode = await post('/api/counter/payments', { amount: '1.00', authCode: 'abc' })
    expect(badCode.status).toBe(400)
    expect(await badCode.json()).toMatchObject({ code: 'AUTH_CODE_INVALID' })
    const badAmount = await post('/api/counter/payments', { amount: 1, authCode: '281000000000000001' })
    expect(await badAmount.json()).toMatchObject({ code: 'AMOUNT_INVALID' })
    const unknown = await app.fetch(new Request('http://shop.test/api/counter/payments/NOPE'))
    expect(unknown.status).toBe(404)
  })
})
