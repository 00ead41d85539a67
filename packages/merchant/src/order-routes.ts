import { Hono, type MiddlewareHandler } from 'hono'
import * as v from 'valibot'
import { decodeNotify, type DecodedNotify } from '@alipay-payment-handler/protocol'
import {
  installErrorHandling,
  limitBody,
  refuseCrossSite,
  silentLogger,
  type Logger,
  HttpProblem,
  problemResponse,
  jsonBody,
} from '@alipay-payment-handler/server-runtime'
import { ORDER_ERROR_STATUS, OrderError } from './order-errors.js'
import type { OrderService } from './order-service.js'
import { ORDER_VIEW_HEADER, presentedViewToken, type AuthorizeOperator, type OrderAccess } from './order-access.js'

/** Numbers pass the schema only to be refused with AMOUNT_INVALID and its reason, not a generic 400. */
const Amount = v.union([v.string(), v.number()])

/** A price a JavaScript `priceOrder` answered as a number is refused the same way. */
function amountString(value: string | number): string {
  if (typeof value === 'string') return value
  throw new OrderError(
    'AMOUNT_INVALID',
    `amount must be a decimal string such as "99.99", not the JSON number ${value}`,
    {
      field: 'amount',
    },
  )
}

/**
 * `POST /orders`: any JSON object (a cart, a product id, …). What it means, and above all what it
 * costs, is the merchant's `priceOrder`'s to decide: the route never reads an amount from it.
 */
export const CreateOrderBody = v.record(v.string(), v.unknown())

/** An order as the merchant's server prices it. */
export interface OrderPrice {
  subject: string
  /** A decimal string ("99.90"), from the merchant's own prices. */
  amount: string
  /** The merchant's own order number; unset, the order service makes one. */
  orderId?: string
}

/**
 * Prices the order a `POST /orders` asks for, from the merchant's catalog or the cart it keeps
 * on the server. The body comes from the browser: read which goods it asks for, never what they
 * cost. Throw an `OrderError` or `HttpProblem` (a 4xx) to refuse a body it does not understand.
 */
export type PriceOrder = (body: Record<string, unknown>, request: Request) => OrderPrice | Promise<OrderPrice>
/** `POST /orders/:id/pay-url`. */
export const PayUrlBody = v.object({ payType: v.pipe(v.string(), v.maxLength(20)) })
/** `POST /orders/:id/refund`. */
export const RefundBody = v.object({
  amount: Amount,
  reason: v.optional(v.pipe(v.string(), v.maxLength(200)), ''),
  /** The refund's number, to retry it (mapi batch_no, openapi out_request_no). */
  refundNo: v.optional(v.pipe(v.string(), v.maxLength(64))),
})
/** `POST /orders/:id/confirm`: the PaymentResponse's details as the browser got them. */
export const ConfirmBody = v.object({ details: v.record(v.string(), v.string()) })
/** `POST /orders/reconcile`: `since` is an ISO 8601 instant; both default (the last 7 days, 200 orders). */
export const ReconcileBody = v.object({
  since: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => Number.isFinite(Date.parse(s)), 'must be an ISO 8601 date such as "2024-05-01T00:00:00Z"'),
    ),
  ),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5000))),
})
/** Routes without a body. */
export const NoBody = v.object({})

/** OrderError → problem+json; the problem type is the code in kebab case (ORDER_NOT_EXIST → order-not-exist). */
function toProblem(error: OrderError): HttpProblem {
  return new HttpProblem(ORDER_ERROR_STATUS[error.code], error.code.toLowerCase().replace(/_/g, '-'), error.message, {
    code: error.code,
    ...error.details,
  })
}

/** What `createOrderRoutes` needs besides the order service. */
export interface OrderRoutesOptions {
  /**
   * Required: what an order costs, decided on the server (see `PriceOrder`). A browser's body can
   * be edited by anyone, so an amount in it would let a buyer set their own price.
   */
  priceOrder: PriceOrder
  logger?: Logger
  /**
   * Decides whether a request comes from one of the merchant's operators (see `AuthorizeOperator`).
   * Refunds, reconciliation, refund lists and the last report are theirs only; without this hook
   * those routes answer 403 `OPERATOR_REQUIRED` to everyone.
   */
  authorizeOperator?: AuthorizeOperator
  /**
   * The order-view tokens (`createOrderAccess`). `POST /orders` answers the new order's
   * `viewToken`; reading, paying, confirming, checking or cancelling one order then needs it in
   * the `Order-View-Token` header (or an operator). Without it, only operators reach an order.
   */
  access?: OrderAccess
}

function operatorRequired(): HttpProblem {
  return new HttpProblem(403, 'operator-required', 'This route is for the merchant’s operators only.', {
    code: 'OPERATOR_REQUIRED',
  })
}

/**
 * The order service over HTTP: a Hono sub-app the merchant backend mounts (e.g. at `/api`).
 * JSON in and out, problem+json errors, and `POST /notify` answering the bare `success`/`fail`.
 * Three kinds of caller: anyone (create an order, notifies, which are verified by signature), the
 * buyer of one order (its view token), and operators (`authorizeOperator`), who may do everything.
 */
export function createOrderRoutes(orders: OrderService, options: OrderRoutesOptions): Hono {
  if (typeof options?.priceOrder !== 'function') {
    throw new TypeError('createOrderRoutes: give priceOrder, which prices each order on the server')
  }
  const logger = options.logger ?? silentLogger()
  const authorize = options.authorizeOperator
  const isOperator = async (request: Request) => (authorize ? (await authorize(request)) === true : false)
  const operatorOnly: MiddlewareHandler = async (c, next) => {
    if (!(await isOperator(c.req.raw))) throw operatorRequired()
    await next()
  }
  // The buyer holding this order's token, or an operator; anyone else learns nothing about the order.
  const buyerOrOperator: MiddlewareHandler = async (c, next) => {
    const id = c.req.param('id') ?? ''
    if (options.access?.verify(id, presentedViewToken(c.req.raw))) return next()
    if (await isOperator(c.req.raw)) return next()
    throw new HttpProblem(403, 'order-view-denied', `Show this order’s view token (${ORDER_VIEW_HEADER}) to use it.`, {
      code: 'ORDER_VIEW_DENIED',
    })
  }
  const app = new Hono()
  installErrorHandling(app, logger)
  app.onError((error, c) => {
    if (error instanceof OrderError) return problemResponse(c, toProblem(error))
    if (error instanceof HttpProblem) return problemResponse(c, error)
    logger.error('orders.unhandled', { path: c.req.path, error })
    return problemResponse(c, new HttpProblem(500, 'internal-error', 'Something went wrong on our side.'))
  })
  app.use('*', limitBody(32 * 1024))
  // The orders routes change money state: only the merchant's own pages (or its servers) may call them.
  app.use('*', refuseCrossSite({ except: /\/notify$/ }))

  app.post('/orders', async (c) => {
    const body = await jsonBody(c, CreateOrderBody)
    const price = await options.priceOrder(body, c.req.raw)
    const order = await orders.create(price.subject, amountString(price.amount), price.orderId)
    return c.json({ ...order, ...(options.access ? { viewToken: options.access.tokenFor(order.orderId) } : {}) }, 201)
  })
  app.use('/orders/reconciliation', operatorOnly)
  app.use('/orders/reconcile', operatorOnly)
  app.use('/orders/:id/refund', operatorOnly)
  app.use('/orders/:id/refunds', operatorOnly)
  app.use('/orders/:id', async (c, next) =>
    c.req.param('id') === 'reconciliation' || c.req.param('id') === 'reconcile' ? next() : buyerOrOperator(c, next),
  )
  app.use('/orders/:id/*', buyerOrOperator)
  // Registered before /orders/:id, so "reconciliation" is never taken for an order id.
  app.get('/orders/reconciliation', async (c) => {
    const report = await orders.latestReconciliation()
    if (!report) throw new HttpProblem(404, 'reconciliation-not-run', 'No reconciliation has finished yet.')
    return c.json(report)
  })
  app.post('/orders/reconcile', async (c) => {
    const body = await jsonBody(c, ReconcileBody)
    return c.json(
      await orders.reconcile({
        trigger: 'manual',
        ...(body.since ? { since: body.since } : {}),
        ...(body.limit ? { limit: body.limit } : {}),
      }),
    )
  })
  app.get('/orders/:id', async (c) => c.json(await orders.query(c.req.param('id'))))
  app.post('/orders/:id/pay-url', async (c) => {
    const body = await jsonBody(c, PayUrlBody)
    return c.json(await orders.getPayUrl(c.req.param('id'), body.payType))
  })
  app.post('/orders/:id/payment-data', async (c) => {
    await jsonBody(c, NoBody)
    return c.json(await orders.paymentData(c.req.param('id')))
  })
  app.post('/orders/:id/check', async (c) => {
    await jsonBody(c, NoBody)
    return c.json(await orders.check(c.req.param('id')))
  })
  app.post('/orders/:id/cancel', async (c) => {
    await jsonBody(c, NoBody)
    return c.json(await orders.cancel(c.req.param('id')))
  })
  app.post('/orders/:id/refund', async (c) => {
    const body = await jsonBody(c, RefundBody)
    return c.json(await orders.refund(c.req.param('id'), amountString(body.amount), body.reason, body.refundNo), 201)
  })
  app.get('/orders/:id/refunds', async (c) => c.json(await orders.refunds(c.req.param('id'))))
  app.post('/orders/:id/confirm', async (c) => {
    const body = await jsonBody(c, ConfirmBody)
    return c.json(await orders.confirm(c.req.param('id'), body.details))
  })
  app.post('/notify', async (c) => {
    let notify: DecodedNotify
    try {
      // Decoded exactly once, in the charset the sender declared, by the one decoder of protocol.
      notify = decodeNotify(await c.req.text(), c.req.header('content-type'))
    } catch {
      return c.text('fail', 400)
    }
    const result = await orders.notify(notify.params, notify.charset)
    return c.body(result.ack, 200, { 'content-type': 'text/plain; charset=utf-8' })
  })
  return app
}
