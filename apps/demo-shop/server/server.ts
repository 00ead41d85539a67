import { serve } from '@hono/node-server'
import type { Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { PartnerConfig } from '@alipay-payment-handler/gateway-client'
import {
  createOrderService,
  openOrderStoreAt,
  orderGatewayDeps,
  scheduleReconciliation,
  type OrderStore,
} from '@alipay-payment-handler/merchant'
import {
  answerClientErrors,
  createLogger,
  hostsOfOrigin,
  isPostgresUrl,
  loopbackHosts,
  type Logger,
  slowRequestLimits,
  type Loop,
} from '@alipay-payment-handler/server-runtime'
import type { ShopConfig } from '../shared/views.js'
import { createMerchantApp, type MerchantAppDeps } from './app.js'
import { createShopOrders } from './order-service-adapter.js'
import { openShopLedger, storeShopLedger, type ShopLedger } from './shop-ledger.js'

/** Everything that configures the demo merchant's backend. */
export interface MerchantServerConfig {
  /** 0 picks a free port. Default 4100. */
  port?: number | undefined
  /** Default 127.0.0.1, like the other two servers. */
  hostname?: string | undefined
  /** Where browsers and the gateway reach the shop; default `http://localhost:<port>`. */
  publicOrigin?: string | undefined
  /** The payment app's origin, handed to the pages for the polyfill. */
  appOrigin: string
  /** The full `gateway.do` URL the order service talks to. */
  gatewayUrl: string
  /** The merchant's partner (gateway-client's PartnerConfig): partner id, seller id, keys, sign type. */
  partner: PartnerConfig
  /** Folder of the SQLite files (orders.db and shop.db). */
  dataDir: string
  /**
   * A `postgres://` URL: the orders (and the shop's order list) live there instead, so several
   * shop processes can share them. Unset or a file path: SQLite in `dataDir`.
   */
  databaseUrl?: string | undefined
  /** The built pages (dist/demo-shop); without it only the API is served. */
  publicDir?: string | undefined
  /** True against the local sandbox: /config.json then tells the pages the test buyer. */
  sandbox?: ShopConfig['buyer'] | false | undefined
  /** How long an order stays payable (default the order service's 2 h). */
  orderTtlMs?: number | undefined
  logger?: Logger | undefined
  /** Rate limits of the API (see createMerchantApp); `false` turns them off. */
  rateLimits?: MerchantAppDeps['rateLimits']
  /** A request must have fully arrived within this time (slow-loris guard); default 30 s. */
  requestTimeoutMs?: number | undefined
  /** Time between reconciliation runs; default 10 minutes. */
  reconcileIntervalMs?: number | undefined
}

/** Often enough that a lost notify is repaired within minutes, rarely enough to spare the gateway. */
const DEFAULT_RECONCILE_INTERVAL_MS = 10 * 60_000

/** A listening merchant backend. */
export interface RunningMerchant {
  url: string
  close(): Promise<void>
}

/** The shop's name, shown as the Payment Request total's label and in the cashier. */
export const SHOP_NAME = 'Tea House'

/**
 * Starts the merchant backend: listens first (so port 0 works and the real origin is known),
 * then builds the order service with notify_url and return_url on that origin.
 */
export async function startMerchant(config: MerchantServerConfig): Promise<RunningMerchant> {
  const logger = config.logger ?? createLogger({ name: 'demo-merchant' })
  let handler: ((request: Request) => Response | Promise<Response>) | undefined
  let reconcileLoop: Loop | undefined
  const hostname = config.hostname ?? '127.0.0.1'
  const listener = serve({
    fetch: (request: Request) =>
      handler
        ? handler(request)
        : new Response('starting', {
            status: 503,
            headers: {
              'retry-after': '1',
              'content-type': 'text/plain; charset=utf-8',
              'x-content-type-options': 'nosniff',
            },
          }),
    port: config.port ?? 4100,
    hostname,
    overrideGlobalObjects: false,
    serverOptions: slowRequestLimits(config.requestTimeoutMs),
  })
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('listening', () => resolve((listener.address() as AddressInfo).port))
    listener.once('error', reject)
  })
  answerClientErrors(listener as unknown as HttpServer)
  const closeListener = () =>
    new Promise<void>((resolve) => {
      ;(listener as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      listener.close(() => resolve())
    })
  const url = config.publicOrigin ?? `http://${hostname === '127.0.0.1' ? 'localhost' : hostname}:${port}`

  let store: OrderStore | undefined
  let ledger: ShopLedger | undefined
  try {
    // The partner's kind picks the gateway: mapi with its partner keys, or openapi as the app.
    const gatewayDeps = await orderGatewayDeps(config.partner, config.gatewayUrl)
    const shared = isPostgresUrl(config.databaseUrl)
    store = await openOrderStoreAt(shared ? config.databaseUrl! : join(config.dataDir, 'merchant-orders.db'))
    ledger = shared ? storeShopLedger(store) : openShopLedger(join(config.dataDir, 'merchant-shop.db'))
    const notifyUrl = `${url}/api/notify`
    const service = createOrderService({
      store,
      ...gatewayDeps,
      notifyUrl,
      refundNotifyUrl: notifyUrl,
      returnUrl: `${url}/return.html`,
      showUrl: `${url}/`,
      logger,
      ...(config.orderTtlMs ? { orderTtlMs: config.orderTtlMs } : {}),
    })
    const orders = createShopOrders({ service, store, ledger, totalLabel: `${SHOP_NAME} order` })
    // Finds what a lost notify left behind (paid at Alipay, unpaid here) without anyone asking.
    reconcileLoop = scheduleReconciliation(
      { store, orders: service },
      {
        intervalMs: config.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
        logger,
      },
    )
    const app = createMerchantApp({
      orders,
      publicDir: config.publicDir,
      shopConfig: {
        appOrigin: config.appOrigin,
        sandbox: Boolean(config.sandbox),
        ...(config.sandbox ? { buyer: config.sandbox } : {}),
      },
      log: (line) => logger.error('merchant.error', { line }),
      allowedOrigins: [url],
      // The public origin's host; without one, the shop is reached on loopback, by any loopback name.
      hosts: config.publicOrigin
        ? hostsOfOrigin(config.publicOrigin)
        : [...new Set([...hostsOfOrigin(url), ...loopbackHosts(port)])],
      ...(config.rateLimits !== undefined ? { rateLimits: config.rateLimits } : {}),
    })
    handler = (request) => app.fetch(request)
  } catch (error) {
    await reconcileLoop?.stop()
    await closeListener()
    await store?.close()
    ledger?.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    url,
    close() {
      closing ??= (async () => {
        await reconcileLoop?.stop()
        await closeListener()
        await store?.close()
        ledger?.close()
      })()
      return closing
    },
  }
}
