import { tradeMismatch } from '@alipay-payment-handler/gateway-client'
import { gatewayFailure, toView, type OrderContext } from './order-context.js'
import { OrderError } from './order-errors.js'
import type { OrderService } from './order-types.js'
import { payTransition } from './order-transitions.js'

/** Confirming a PaymentResponse the browser posted: verify, match, ask the gateway, then paid. */
export function confirmUseCase(ctx: OrderContext): Pick<OrderService, 'confirm'> {
  const { deps, now, log, gateway, sellerId, confirmWithGateway, mustGet, paid, gatewaySaysPaid, queryTrade } = ctx
  return {
    async confirm(orderId, details) {
      const order = await mustGet(orderId)
      const verified = await gateway.verifyPaymentResponse(details)
      if (!verified.ok) {
        throw new OrderError(
          'INVALID_SIGNATURE',
          `the response's gateway signature does not verify (${verified.reason})`,
          {
            reason: verified.reason,
          },
        )
      }
      if (verified.paid === false) {
        throw new OrderError('PAYMENT_NOT_SUCCESSFUL', 'the response does not report a paid trade', {
          tradeStatus: verified.trade.status,
        })
      }
      const mismatch = tradeMismatch(order, verified.trade, sellerId)
      if (mismatch) {
        log.error('confirm.rejected', { orderId, reason: mismatch })
        throw new OrderError(mismatch, `the response does not match order ${orderId} (${mismatch})`)
      }
      // A bare openapi return says nothing about payment: then only the gateway can.
      if (order.state !== 'success' && (confirmWithGateway || verified.paid === undefined)) {
        let confirmed = false
        try {
          confirmed = await gatewaySaysPaid(order)
        } catch (error) {
          gatewayFailure(error)
        }
        if (!confirmed) throw new OrderError('PAYMENT_NOT_CONFIRMED', 'the gateway does not confirm this payment yet')
      }
      let paidTrade = verified.trade
      if (verified.paid === undefined) {
        // The return has no status: the query that confirmed it does.
        const lookup = await queryTrade(order).catch(() => undefined)
        if (lookup?.found) paidTrade = lookup.trade
      }
      const move = payTransition(paidTrade)
      if (await deps.store.transition(orderId, move.from, move.patch, now())) {
        await paid(orderId, 'confirm')
      } else if ((await mustGet(orderId)).state === 'close') {
        // Paid after the merchant cancelled: recorded and refunded, never paid (rule 3).
        await ctx.latePaid(orderId, paidTrade, 'confirm')
      }
      return toView(await mustGet(orderId))
    },
  }
}
