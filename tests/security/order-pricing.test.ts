import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import {
  createMerchant,
  ORDER_VIEW_HEADER,
  type Merchant,
  type MerchantOptions,
  type PriceOrder,
} from '@alipay-payment-handler/merchant'
import { HttpProblem } from '@alipay-payment-handler/server-runtime'

/** The merchant's catalog: the only place prices come from. */
const CATALOG: Record<string, { name: string; price: string }> = {
  'jasmine-tea': { name: 'Jasmine tea', price: '12.00' },
}

/** Reads which product the browser asks for, and nothing else from it. */
const priceFromCatalog: PriceOrder = (body) => {
  const product = typeof body['sku'] === 'string' ? CATALOG[body['sku']] : undefined
  if (!product) throw new HttpProblem(400, 'unknown-product', 'No such product.', { code: 'UNKNOWN_PRODUCT' })
  return { subject: product.name, amount: product.price }
}

describe('POST /orders of the merchant library: the server prices the order', () => {
  let dir: string
  let merchant: Merchant
  const options = (): MerchantOptions => ({
    partner: demoPartnerConfig(),
    // Creating an order and its Payment Request data never calls the gateway.
    gatewayUrl: 'http://127.0.0.1:9/gateway.do',
    notifyUrl: 'http://shop.test/alipay/notify',
    database: join(dir, 'orders.db'),
    priceOrder: priceFromCatalog,
  })
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    merchant.handler.fetch(
      new Request(`http://shop.test${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    )
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alipay-pricing-'))
    merchant = await createMerchant(options())
  })
  afterAll(async () => {
    await merchant.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('charges the catalog price whatever amount the browser sends', async () => {
    const tampered = { sku: 'jasmine-tea', amount: '0.01', total_fee: '0.01', subject: 'free tea', orderId: 'MINE1' }
    const created = await post('/orders', tampered)
    expect(created.status).toBe(201)
    const order = (await created.json()) as { orderId: string; amount: string; subject: string; viewToken: string }
    expect(order).toMatchObject({ amount: '12.00', subject: 'Jasmine tea' })
    expect(order.orderId).not.toBe('MINE1')
    expect((await merchant.orders.query(order.orderId)).amount).toBe('12.00')
    // What the buyer is then asked to pay, and what is signed for the gateway, is the catalog price.
    const data = await post(`/orders/${order.orderId}/payment-data`, {}, { [ORDER_VIEW_HEADER]: order.viewToken })
    expect(data.status).toBe(200)
    const payment = (await data.json()) as { data: Record<string, unknown>; total: { value: string } }
    expect(payment.total.value).toBe('12.00')
    expect(JSON.stringify(payment.data)).toContain('12.00')
    expect(JSON.stringify(payment.data)).not.toContain('0.01')
  })

  it('refuses what the pricing refuses, with its 4xx, and creates nothing', async () => {
    const refused = await post('/orders', { subject: 'anything', amount: '0.01' })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ code: 'UNKNOWN_PRODUCT' })
    expect(await merchant.store.ordersSince(0, 100)).toHaveLength(1)
  })

  it('will not start without a pricing hook', async () => {
    const { priceOrder: _omitted, ...withoutPricing } = options()
    await expect(createMerchant(withoutPricing as MerchantOptions)).rejects.toThrow(/priceOrder/)
  })
})
