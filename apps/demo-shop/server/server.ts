import { serve } from '@hono/node-server'
import type { Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onHttpCall, type PartnerConfig } from '@alipay-payment-handler/gateway-client'
import {
  createOrderAccess,
  createOrderService,
  openOrderStoreAt,
  newOrderViewSecret,
  orderGatewayDeps,
  scheduleReconciliation,
  scheduleStatementReconciliation,
  type OrderStore,
} from '@alipay-payment-handler/merchant'
import {
  answerClientErrors,
  createLogger,
  createServerMetrics,
  outboundCallMetrics,
  hostsOfOrigin,
  isPostgresUrl,
  loopbackHosts,
  type Logger,
  slowRequestLimits,
  type Loop,
} from '@alipay-payment-handler/server-runtime'
import type { ShopConfig } from '../common/views.js'
import { createMerchantApp, type MerchantAppDeps } from './app.js'
import { createCounterDesk } from './counter.js'
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
  /**
   * Where a cancel revokes the order's payment sessions (default `appOrigin`); a function is read at
   * each cancel, for a payment app started after the shop.
   */
  paymentAppUrl?: string | (() => string) | undefined
  /** Refund a payment for a cancelled order automatically (default true); false flags it for a person. */
  refundLatePayments?: boolean | undefined
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
  /** Reverse proxies whose `X-Forwarded-For`/`Forwarded` are believed (addresses or CIDR ranges). */
  trustedProxies?: readonly string[] | undefined
  /** A request must have fully arrived within this time (slow-loris guard); default 30 s. */
  requestTimeoutMs?: number | undefined
  /** Time between reconciliation runs; default 10 minutes. */
  reconcileIntervalMs?: number | undefined
  /** Beijing hour at which yesterday's statement is reconciled (openapi only); default 10. */
  statementReconcileHour?: number | undefined
  /**
   * The operator token of the orders page (at least 24 characters). Unset: a random one per
   * start, answered in `RunningMerchant.operatorToken` for the start banner to print.
   */
  operatorToken?: string | undefined
  /**
   * The secret of the buyers' order-view tokens. Shops sharing one database on several hosts must
   * share it (`MERCHANT_ORDER_VIEW_SECRET`), or a link made by one is refused by another. Unset: one
   * kept in the data folder, which processes sharing that folder share.
   */
  orderViewSecret?: string | undefined
}

/**
 * The view-token secret of the data folder, made by the first process to need it. Written to a file
 * of its own and linked into place, so two processes starting together agree on one secret and
 * neither reads a half-written file.
 */
function viewSecret(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, 'merchant-view-secret')
  if (!existsSync(file)) {
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
    writeFileSync(draft, newOrderViewSecret() + '\n', { mode: 0o600 })
    try {
      linkSync(draft, file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    } finally {
      rmSync(draft, { force: true })
    }
  }
  return readFileSync(file, 'utf8').trim()
}

/**
 * Why the shop cannot take orders (for `/readyz`), or undefined when it can: the order store answers
 * with no migration missing, and the shop's order list answers.
 */
export async function shopReadiness(store: OrderStore, ledger: ShopLedger): Promise<string | undefined> {
  try {
    const { pending } = await store.migrationStatus()
    if (pending > 0) return `the order database misses ${pending} migration(s)`
  } catch {
    return 'the order database does not answer'
  }
  try {
    await ledger.recent(1)
  } catch {
    return 'the shop database does not answer'
  }
  return undefined
}

/** Often enough that a lost notify is repaired within minutes, rarely enough to spare the gateway. */
const DEFAULT_RECONCILE_INTERVAL_MS = 10 * 60_000

/** A listening merchant backend. */
export interface RunningMerchant {
  url: string
  /** What the orders page's login takes (also `Authorization: Bearer`); never logged. */
  operatorToken: string
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
  let statementLoop: Loop | undefined
  const hostname = config.hostname ?? '127.0.0.1'
  if (config.operatorToken !== undefined && config.operatorToken.length < 24) {
    throw new TypeError('[alipay] MERCHANT_OPERATOR_TOKEN must be at least 24 characters')
  }
  const operatorToken = config.operatorToken ?? randomBytes(24).toString('base64url')
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

  const metrics = createServerMetrics({ prefix: 'alipay_merchant_' })
  const stopWatchingCalls = onHttpCall(outboundCallMetrics(metrics.registry, 'alipay_merchant_'))
  let store: OrderStore | undefined
  let ledger: ShopLedger | undefined
  let closing: Promise<void> | undefined
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
      paymentApp: { url: config.paymentAppUrl ?? config.appOrigin },
      ...(config.refundLatePayments !== undefined ? { refundLatePayments: config.refundLatePayments } : {}),
    })
    const [openedStore, openedLedger] = [store, ledger]
    const orders = createShopOrders({ service, store, ledger, totalLabel: `${SHOP_NAME} order` })
    // Barcode payments need an openapi app; on mapi the counter page says so.
    const counter =
      config.partner.kind === 'openapi'
        ? createCounterDesk({ service, ledger, log: (line) => logger.error('merchant.counter', { line }) })
        : undefined
    // Finds what a lost notify left behind (paid at Alipay, unpaid here) without anyone asking.
    reconcileLoop = scheduleReconciliation(
      { store, orders: service },
      {
        intervalMs: config.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
        logger,
      },
    )
    // Once a day, the statement: also finds money the shop never heard of (openapi only).
    if (config.partner.kind === 'openapi') {
      statementLoop = scheduleStatementReconciliation(service, {
        ...(config.statementReconcileHour !== undefined ? { hour: config.statementReconcileHour } : {}),
        logger,
      })
    }
    const app = createMerchantApp({
      orders,
      counter,
      publicDir: config.publicDir,
      shopConfig: {
        appOrigin: config.appOrigin,
        sandbox: Boolean(config.sandbox),
        ...(config.sandbox ? { buyer: config.sandbox } : {}),
      },
      log: (line) => logger.error('merchant.error', { line }),
      operatorToken,
      access: createOrderAccess(config.orderViewSecret ?? viewSecret(config.dataDir)),
      secureCookies: url.startsWith('https:'),
      formActionOrigins: [new URL(config.gatewayUrl).origin],
      metrics,
      allowedOrigins: [url],
      // The public origin's host; without one, the shop is reached on loopback, by any loopback name.
      hosts: config.publicOrigin
        ? hostsOfOrigin(config.publicOrigin)
        : [...new Set([...hostsOfOrigin(url), ...loopbackHosts(port)])],
      ...(config.rateLimits !== undefined ? { rateLimits: config.rateLimits } : {}),
      trustedProxies: config.trustedProxies,
      readiness: async () => (closing ? 'shutting down' : shopReadiness(openedStore, openedLedger)),
    })
    handler = (request) => app.fetch(request)
  } catch (error) {
    stopWatchingCalls()
    await reconcileLoop?.stop()
    await statementLoop?.stop()
    await closeListener()
    await store?.close()
    ledger?.close()
    throw error
  }
  return {
    url,
    operatorToken,
    close() {
      closing ??= (async () => {
        stopWatchingCalls()
        await reconcileLoop?.stop()
        await statementLoop?.stop()
        await closeListener()
        await store?.close()
        ledger?.close()
      })()
      return closing
    },
  }
}
