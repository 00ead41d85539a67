import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_APP, DEMO_GATEWAY_RSA } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createPaymentGateway } from '@alipay-payment-handler/gateway-client'
import { startMerchant, tempDir, type Merchant } from '../../../tests/support/harness.js'

const tmp = tempDir()
let sandbox: RunningSandbox
let mapi: Merchant
let openapi: Merchant
let gatewayCalls = 0

beforeAll(async () => {
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, log: () => {} }))
  mapi = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/mapi.db`)
  openapi = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/openapi.db`, {
    gateway: createPaymentGateway({
      kind: 'openapi',
      gatewayUrl: sandbox.gatewayUrl,
      appId: DEMO_APP.appId,
      privateKey: DEMO_APP.privateKey,
      publicKey: DEMO_GATEWAY_RSA.publicKey,
      sellerId: DEMO_APP.sellerId,
      fetch: (input, init) => {
        gatewayCalls++
        return fetch(input, init)
      },
    }),
  })
})
afterAll(async () => {
  await mapi.close()
  await openapi.close()
  await sandbox.close()
  tmp.cleanup()
})

describe('payWithBuyerCode', () => {
  it('is openapi only: a mapi merchant gets NOT_SUPPORTED_BY_GATEWAY for all three counter calls', async () => {
    const order = await mapi.orders.create('mapi counter', '1.00')
    for (const call of [
      () => mapi.orders.payWithBuyerCode(order.orderId, '281000000000000001'),
      () => mapi.orders.createTrade(order.orderId),
      () => mapi.orders.appPayOrderString(order.orderId),
    ])
      await expect(call()).rejects.toMatchObject({ code: 'NOT_SUPPORTED_BY_GATEWAY' })
  })

  it('an already aborted signal stops before the gateway is asked', async () => {
    const order = await openapi.orders.create('aborted', '1.00')
    const before = gatewayCalls
    await expect(
      openapi.orders.payWithBuyerCode(order.orderId, '281000000000000001', { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(gatewayCalls).toBe(before)
    expect((await openapi.orders.query(order.orderId)).status).toBe('wait')
  })

  it('refuses paid, unknown and malformed orders and codes with stable codes', async () => {
    await expect(openapi.orders.payWithBuyerCode('NOPE', '281000000000000001')).rejects.toMatchObject({
      code: 'ORDER_NOT_EXIST',
    })
    const order = await openapi.orders.create('codes', '1.00')
    await expect(openapi.orders.payWithBuyerCode(order.orderId, '28 1000')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
    })
    expect((await openapi.orders.payWithBuyerCode(order.orderId, '281000000000000001')).outcome).toBe('paid')
    await expect(openapi.orders.payWithBuyerCode(order.orderId, '281000000000000001')).rejects.toMatchObject({
      code: 'ORDER_STATE_CONFLICT',
    })
  })
})
