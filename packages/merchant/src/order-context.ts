import {
  GatewayError,
  createMapiGateway,
  tradeMismatch,
  type PaymentGateway,
  type TradeLookup,
  type TradeSnapshot,
} from '@alipay-payment-handler/gateway-client'
import { ProtocolError, isAmountInRange, isPaidStatus, normalizeAmount } from '@alipay-payment-handler/protocol'
import { silentLogger, type Logger } from '@alipay-payment-handler/server-runtime'
import { OrderError } from './order-errors.js'
import type { OrderServiceDeps, OrderView, PaidVia } from './order-types.js'
import type { Order } from './order-store.js'

/**
 * What every use case of the order service shares: its dependencies, the resolved gateway, and the
 * small steps they all take (load an order, time it out, tell onPaid, ask the gateway).
 */
export interface OrderContext {
  deps: OrderServiceDeps
  now: () => number
  log: Logger
  confirmWithGateway: boolean
  gateway: PaymentGateway
  /** The seller trades must name: the deps' or the gateway's. */
  sellerId: string | undefined
  mustGet(orderId: string): Promise<Order>
  /** Moves an unpaid order past its deadline to `timeout` (lazily, when it is read). */
  fresh(order: Order): Promise<Order>
  mustBePayable(orderId: string): Promise<Order>
  /** Tells `onPaid` (once per order: only the caller whose transition applied gets here). */
  paid(orderId: string, via: PaidVia): Promise<void>
  /** The gateway's view of an order's trade, in the shape both gateways share. */
  queryTrade(order: Order): Promise<TradeLookup>
  /** Asks the gateway whether the order is paid, for the amount we expect. */
  gatewaySaysPaid(order: Order): Promise<boolean>
  /**
   * A confirmed payment for a cancelled order: recorded and refunded, never paid (order-late-payment).
   * Set by createOrderService once the refund use case exists.
   */
  latePaid(orderId: string, trade: TradeSnapshot, via: PaidVia): Promise<void>
}

export function assertAmount(amount: unknown, field = 'amount'): string {
  if (typeof amount !== 'string') {
    throw new OrderError(
      'AMOUNT_INVALID',
      `${field} must be a decimal string such as "99.99", not a ${typeof amount}: a float has already lost the exact value`,
      { field, type: typeof amount },
    )
  }
  try {
    if (!isAmountInRange(amount)) throw new OrderError('AMOUNT_INVALID', `${field} must be 0.01 to 100000000.00`)
    return normalizeAmount(amount)
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new OrderError('AMOUNT_INVALID', `${field} "${amount}" is not a decimal string with at most 2 decimals`, {
        field,
      })
    }
    throw error
  }
}

export function toView(order: Order): OrderView {
  const late =
    order.state === 'close' &&
    order.tradeNo !== undefined &&
    (isPaidStatus(order.tradeStatus) || order.refunded !== '0.00')
  return {
    ...(late ? { latePayment: order.refunded === '0.00' ? ('needs-review' as const) : ('refunding' as const) } : {}),
    orderId: order.orderId,
    subject: order.subject,
    amount: order.amount,
    status: order.state,
    tradeStatus: order.tradeStatus ?? null,
    tradeNo: order.tradeNo ?? null,
    payTime: order.payTime ?? null,
    refunded: order.refunded,
    expiresAt: new Date(order.expiresAt).toISOString(),
  }
}

export function gatewayFailure(error: unknown, extra: Record<string, unknown> = {}): never {
  if (error instanceof GatewayError) {
    throw new OrderError('GATEWAY_ERROR', `the gateway failed: ${error.code}`, {
      reason: error.code,
      gatewayCode: error.gatewayCode,
      retryable: error.retryable,
      ...extra,
    })
  }
  throw error
}

/** The gateway of the deps: a PaymentGateway as given, a MapiClient wrapped with the mapi fields. */
function resolveGateway(deps: OrderServiceDeps): PaymentGateway {
  const gateway = deps.gateway
  if ('kind' in gateway) return gateway
  const { partner, sellerId, keys, signType } = deps
  if (!partner || !sellerId || !keys || !signType) {
    throw new TypeError('[alipay-server] a MapiClient gateway needs partner, sellerId, keys and signType')
  }
  return createMapiGateway({ client: gateway, partner, sellerId, keys, signType })
}

/** Builds the shared context of the order service's use cases. */
export function createOrderContext(deps: OrderServiceDeps): OrderContext {
  const now = deps.now ?? Date.now
  const log = deps.logger ?? silentLogger()
  const gateway = resolveGateway(deps)
  const sellerId = deps.sellerId ?? gateway.sellerId

  async function mustGet(orderId: string): Promise<Order> {
    const order = await deps.store.get(orderId)
    if (!order) throw new OrderError('ORDER_NOT_EXIST', `order ${orderId} does not exist`, { orderId })
    return order
  }

  async function fresh(order: Order): Promise<Order> {
    if (order.state === 'wait' && now() >= order.expiresAt) {
      await deps.store.transition(order.orderId, ['wait'], { state: 'timeout' }, now())
      return mustGet(order.orderId)
    }
    return order
  }

  async function mustBePayable(orderId: string): Promise<Order> {
    const order = await fresh(await mustGet(orderId))
    if (order.state !== 'wait') {
      throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is ${order.state}, not waiting for payment`, {
        orderId,
        status: order.state,
      })
    }
    return order
  }

  async function paid(orderId: string, via: PaidVia): Promise<void> {
    log.info('order.paid', { orderId, via })
    if (!deps.onPaid) return
    const order = await deps.store.get(orderId)
    if (!order) return
    try {
      await deps.onPaid(toView(order), via)
    } catch (error) {
      log.error('order.on-paid-failed', { orderId, via, error })
    }
  }

  const queryTrade = (order: Order): Promise<TradeLookup> =>
    gateway.queryTrade({ orderId: order.orderId, tradeNo: order.tradeNo })

  async function gatewaySaysPaid(order: Order): Promise<boolean> {
    const result = await queryTrade(order)
    return (
      result.found && isPaidStatus(result.trade.status) && tradeMismatch(order, result.trade, sellerId) === undefined
    )
  }

  return {
    deps,
    now,
    log,
    confirmWithGateway: deps.confirmWithGateway ?? true,
    gateway,
    sellerId,
    mustGet,
    fresh,
    mustBePayable,
    paid,
    queryTrade,
    gatewaySaysPaid,
    latePaid: () => Promise.reject(new Error('latePaid is set by createOrderService')),
  }
}
