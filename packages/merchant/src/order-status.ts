import { isPaidStatus, type Params } from '@alipay-payment-handler/protocol'
import { tradeMismatch } from '@alipay-payment-handler/gateway-client'
import { gatewayFailure, toView, type OrderContext } from './order-context.js'
import { OrderError } from './order-errors.js'
import { SUCCESS_RETURN, type OrderService } from './order-types.js'
import type { Order } from './order-store.js'
import { revokeSessions } from './order-revoke.js'
import { tradeTransition } from './order-transitions.js'

/** Reading and settling an order's state with the gateway: query, check (single_trade_query), cancel. */
export function statusUseCases(
  ctx: OrderContext,
): Pick<OrderService, 'query' | 'check' | 'checkThird' | 'cancel' | 'cancelThird'> {
  const { deps, now, log, gateway, sellerId, mustGet, fresh, paid, queryTrade } = ctx

  async function checkThird(order: Order): Promise<Params | Record<string, never>> {
    let result
    try {
      result = await queryTrade(order)
    } catch (error) {
      gatewayFailure(error)
    }
    if (!result.found) return {}
    const trade = result.trade
    const status = trade.status
    const t = now()
    if (isPaidStatus(status)) {
      const mismatch = tradeMismatch(order, trade, sellerId)
      if (mismatch) {
        log.error('order.trade-mismatch', { orderId: order.orderId, reason: mismatch })
        return trade.raw
      }
    }
    const { move, sync } = tradeTransition(trade, order.tradeStatus)
    if (await deps.store.transition(order.orderId, move.from, move.patch, t)) {
      if (move.patch.state === 'success') await paid(order.orderId, 'check')
    } else if (isPaidStatus(status) && (await mustGet(order.orderId)).state === 'close') {
      await ctx.latePaid(order.orderId, trade, 'check')
    } else if (sync) {
      await deps.store.transition(order.orderId, sync.from, sync.patch, t)
    }
    return trade.raw
  }

  async function cancelThird(orderId: string): Promise<typeof SUCCESS_RETURN> {
    const order = await mustGet(orderId)
    let closed
    try {
      closed = await gateway.closeTrade({ orderId, tradeNo: order.tradeNo, channel: order.payChannel })
    } catch (error) {
      gatewayFailure(error)
    }
    if (closed.closed) {
      // openapi cancel of a QR trade the buyer had paid meanwhile: the gateway refunded it in full.
      if (closed.action === 'refund') log.warn('order.cancel-refunded', { orderId })
      return SUCCESS_RETURN
    }
    // Not closable: paid or already closed. Learn which before answering.
    await checkThird(order)
    const latest = await mustGet(orderId)
    if (latest.state === 'success') {
      throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is already paid`, { orderId, status: 'success' })
    }
    if (latest.tradeStatus === 'TRADE_CLOSED') return SUCCESS_RETURN
    throw new OrderError('GATEWAY_ERROR', `closing the trade was refused with ${closed.error}`, {
      gatewayCode: closed.error,
    })
  }

  return {
    async query(orderId) {
      return toView(await fresh(await mustGet(orderId)))
    },

    async check(orderId) {
      const order = await mustGet(orderId)
      await checkThird(order)
      return toView(await fresh(await mustGet(orderId)))
    },

    checkThird,

    async cancel(orderId) {
      const order = await mustGet(orderId)
      if (order.state === 'success') {
        throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is paid; refund it instead`, {
          orderId,
          status: 'success',
        })
      }
      if (order.state === 'close') {
        // A repeated cancel repeats the revoke: the first may not have reached the payment app.
        await revokeSessions(ctx, orderId)
        return toView(await mustGet(orderId))
      }
      await cancelThird(orderId)
      await deps.store.transition(orderId, ['wait', 'timeout'], { state: 'close' }, now())
      const closed = await mustGet(orderId)
      log.info('order.cancelled', { orderId, status: closed.state })
      // Closed here first, then the payment app's sessions: a payment racing the revoke finds a
      // closed order and is refunded (order-late-payment), never marked paid.
      if (closed.state === 'close') await revokeSessions(ctx, orderId)
      return toView(closed)
    },

    cancelThird,
  }
}
