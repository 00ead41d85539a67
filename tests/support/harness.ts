import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeyRing } from '@alipay-payment-handler/protocol'
import { DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { createMapiClient, type MapiClient } from '@alipay-payment-handler/gateway-client'
import {
  createOrderAccess,
  createOrderRoutes,
  newOrderViewSecret,
  operatorTokenAuthorizer,
  ORDER_VIEW_HEADER,
  createOrderService,
  type OrderService,
  type OrderServiceDeps,
  openOrderStoreAt,
  type OrderStore,
  type PriceOrder,
} from '@alipay-payment-handler/merchant'

/**
 * These tests choose each order's subject and amount themselves, so their merchant sells anything
 * at the price asked. A shop never does: it prices from its own catalog (packages/merchant README,
 * "Pricing orders on the server"; tests/security/amounts.test.ts shows a tampered amount ignored).
 */
export const priceAsAsked: PriceOrder = (body) => ({
  subject: body['subject'] as string,
  amount: body['amount'] as string,
  ...(typeof body['orderId'] === 'string' ? { orderId: body['orderId'] } : {}),
})

/** The demo merchant's key ring: its own MD5/RSA keys to sign, the gateway's public key to verify. */
export const MERCHANT_RING: KeyRing = {
  md5Key: DEMO_PARTNER.md5Key,
  privateKey: DEMO_MERCHANT_RSA.privateKey,
  publicKey: DEMO_GATEWAY_RSA.publicKey,
}

/** The demo merchant's mapi client (MD5), as startMerchant builds it. */
export function demoMapiClient(gatewayUrl: string): MapiClient {
  return createMapiClient({
    gatewayUrl,
    partner: DEMO_PARTNER.partner,
    keys: MERCHANT_RING,
    signType: 'MD5',
    timeoutMs: 3000,
  })
}

/** A temp directory for SQLite files. */
export function tempDir(prefix = 'alipay-demo-server-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Listens on 127.0.0.1:0 with a Hono app; returns its base URL and a closer. */
export async function listen(app: Hono): Promise<{ url: string; close: () => Promise<void> }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A merchant backend: the order service on SQLite, its routes served on loopback. */
export interface Merchant {
  url: string
  /** Headers of the merchant's operator (refunds, reconciliation; any order). */
  operator: Record<string, string>
  /** Headers of the buyer of `orderId` (its order-view token). */
  buyer(orderId: string): Record<string, string>
  orders: OrderService
  store: OrderStore
  close(): Promise<void>
}

/** Starts a demo merchant backend against `gatewayUrl`. */
export async function startMerchant(
  gatewayUrl: string,
  dbPath: string,
  overrides: Partial<OrderServiceDeps> = {},
): Promise<Merchant> {
  // A SQLite file, or a postgres:// URL (merchant processes sharing one database).
  const store = await openOrderStoreAt(dbPath)
  // The notify URL needs the port, so the routes are plugged in after listening.
  const ref: { routes?: Hono } = {}
  const app = new Hono()
  app.all('*', (c) => (ref.routes ? ref.routes.fetch(c.req.raw) : c.text('starting', 503)))
  const server = await listen(app)
  const orders: OrderService = createOrderService({
    store,
    gateway: demoMapiClient(gatewayUrl),
    partner: DEMO_PARTNER.partner,
    sellerId: DEMO_PARTNER.sellerId,
    keys: MERCHANT_RING,
    signType: 'MD5',
    notifyUrl: `${server.url}/notify`,
    logger: silentLogger(),
    ...overrides,
  })
  const access = createOrderAccess(newOrderViewSecret())
  const operatorToken = newOrderViewSecret()
  ref.routes = createOrderRoutes(orders, {
    priceOrder: priceAsAsked,
    access,
    authorizeOperator: operatorTokenAuthorizer(operatorToken),
  })
  return {
    url: server.url,
    operator: { authorization: `Bearer ${operatorToken}` },
    buyer: (orderId) => ({ [ORDER_VIEW_HEADER]: access.tokenFor(orderId) }),
    orders,
    store,
    async close() {
      await server.close()
      await store.close()
    },
  }
}

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      if (Date.now() > deadline) throw error
    }
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
