import { getRequestListener } from '@hono/node-server'
import {
  createMapiClient,
  createPartnerRegistry,
  createPaymentGateway,
  type PartnerConfig,
} from '@alipay-payment-handler/gateway-client'
import type { Logger } from '@alipay-payment-handler/server-runtime'
import { createOrderAccess, newOrderViewSecret, type AuthorizeOperator } from './order-access.js'
import { createOrderRoutes, type PriceOrder } from './order-routes.js'
import { createOrderService, type OrderService, type OrderServiceDeps } from './order-service.js'
import { openOrderStoreAt } from './order-store-open.js'
import type { OrderStore } from './order-store.js'

/** The gateway half of the order service's dependencies, as a partner's kind dictates. */
export type OrderGatewayDeps = Pick<OrderServiceDeps, 'gateway' | 'partner' | 'sellerId' | 'keys' | 'signType'>

/**
 * Builds the gateway dependencies of `createOrderService` from one partner configuration (the
 * same `PartnerConfig` the payment app reads): mapi with the partner's keys, or openapi as the app.
 * The keys are checked here, so a bad key fails before the first order.
 */
export async function orderGatewayDeps(partner: PartnerConfig, gatewayUrl: string): Promise<OrderGatewayDeps> {
  const registry = await createPartnerRegistry([partner])
  const info = registry.list()[0]
  if (!info) throw new TypeError('orderGatewayDeps: no partner')
  const keys = registry.gatewayKeys(info.partner)
  const url = info.gatewayUrl ?? gatewayUrl
  if (info.kind === 'openapi') {
    return {
      gateway: createPaymentGateway({
        kind: 'openapi',
        gatewayUrl: url,
        appId: info.appId ?? '',
        privateKey: keys.privateKey ?? '',
        publicKey: keys.publicKey ?? '',
        signType: info.signType === 'RSA' ? 'RSA' : 'RSA2',
        sellerId: info.sellerId,
        partner: info.partner,
      }),
    }
  }
  return {
    gateway: createMapiClient({
      gatewayUrl: url,
      partner: info.partner,
      sellerId: info.sellerId,
      keys,
      signType: info.signType,
    }),
    partner: info.partner,
    sellerId: info.sellerId,
    keys,
    signType: info.signType,
  }
}

/** What `createMerchant` needs: one partner, the gateway, a database, the merchant's URLs and its prices. */
export interface MerchantOptions {
  partner: PartnerConfig
  /** Prices each `POST /orders` on the server, from the merchant's catalog (see `PriceOrder`). */
  priceOrder: PriceOrder
  /** The sandbox's or Alipay's `gateway.do` URL (a partner's own `gatewayUrl` wins). */
  gatewayUrl: string
  /**
   * Where orders, refunds, audit rows and reconciliation reports live: a SQLite file, or a
   * `postgres://` URL (several merchant processes may share it; migrations run here). Ignored
   * when `store` is given.
   */
  database?: string
  /** An order store opened by the caller (closed by `close()` all the same). */
  store?: OrderStore
  /** Where notifies for these orders arrive: the URL `handler` answers `POST …/notify` on. */
  notifyUrl: string
  /** The merchant's landing page after the cashier (classic redirect routes). */
  returnUrl?: string
  showUrl?: string
  orderTtlMs?: number
  onPaid?: OrderServiceDeps['onPaid']
  /** The payment app a cancel revokes the order's sessions at (see OrderServiceDeps). */
  paymentApp?: OrderServiceDeps['paymentApp']
  /** Refund a payment for a cancelled order automatically (default true). */
  refundLatePayments?: boolean
  logger?: Logger
  /**
   * Who the merchant's operators are (refund, cancel, check and reconcile any order; read the
   * reports). Without it those routes refuse everyone; buyers never reach them.
   */
  authorizeOperator?: AuthorizeOperator
  /**
   * The secret of the buyers' order-view tokens (at least 16 characters; `newOrderViewSecret()`).
   * Unset: a random one per process, so tokens handed out before a restart stop working.
   */
  orderViewSecret?: string
}

/** An order service with its store and its HTTP routes (see `createOrderRoutes`). */
export interface Merchant {
  orders: OrderService
  store: OrderStore
  /** The order routes as a fetch handler: mount it in Hono, or in Express/Node with `toNodeHandler`. */
  handler: { fetch(request: Request): Response | Promise<Response> }
  close(): Promise<void>
}

/** The order service on SQLite or PostgreSQL for one partner, with its routes; the smallest complete setup. */
export async function createMerchant(options: MerchantOptions): Promise<Merchant> {
  // Checked before anything is opened: without it, the routes would have to trust the browser's price.
  if (typeof options.priceOrder !== 'function') {
    throw new TypeError('createMerchant: give priceOrder, which prices each order on the server')
  }
  const gatewayDeps = await orderGatewayDeps(options.partner, options.gatewayUrl)
  if (!options.store && options.database === undefined) {
    throw new TypeError('createMerchant: give a database (a SQLite file or a postgres:// URL) or a store')
  }
  const store = options.store ?? (await openOrderStoreAt(options.database!))
  const orders = createOrderService({
    store,
    ...gatewayDeps,
    notifyUrl: options.notifyUrl,
    refundNotifyUrl: options.notifyUrl,
    ...(options.returnUrl ? { returnUrl: options.returnUrl } : {}),
    ...(options.showUrl ? { showUrl: options.showUrl } : {}),
    ...(options.orderTtlMs ? { orderTtlMs: options.orderTtlMs } : {}),
    ...(options.onPaid ? { onPaid: options.onPaid } : {}),
    ...(options.paymentApp ? { paymentApp: options.paymentApp } : {}),
    ...(options.refundLatePayments !== undefined ? { refundLatePayments: options.refundLatePayments } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
  const routes = createOrderRoutes(orders, {
    priceOrder: options.priceOrder,
    access: createOrderAccess(options.orderViewSecret ?? newOrderViewSecret()),
    ...(options.authorizeOperator ? { authorizeOperator: options.authorizeOperator } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
  return { orders, store, handler: { fetch: (request) => routes.fetch(request) }, close: () => store.close() }
}

/**
 * A fetch handler as a Node `(req, res)` listener: for `http.createServer`, Express
 * (`app.use('/alipay', toNodeHandler(merchant.handler))`) and Fastify (`fastify.all('/alipay/*', …)` on
 * `request.raw`/`reply.raw`). The routes read the raw body themselves, with their own size limit and
 * CSRF guard, so no body parser may run before them.
 */
export function toNodeHandler(handler: { fetch(request: Request): Response | Promise<Response> }) {
  return getRequestListener((request) => handler.fetch(request), { overrideGlobalObjects: false })
}
