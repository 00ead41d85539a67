import type { TradeSnapshot } from '@alipay-payment-handler/gateway-client'
import { OrderError } from './order-errors.js'
import type { OrderContext } from './order-context.js'
import type { OrderService, PaidVia } from './order-types.js'
import { latePaymentTransition } from './order-transitions.js'

/** The audit actions of a late payment: one of the first two once per order, the third on a refused refund. */
export const LATE_PAYMENT_ACTIONS = {
  refunding: 'LATE_PAYMENT_REFUND',
  flagged: 'FLAG_LATE_PAYMENT',
  refundFailed: 'FLAG_LATE_PAYMENT_REFUND_FAILED',
} as const

/**
 * A payment the gateway confirmed for an order the merchant had cancelled (its method data or
 * cashier link was used after the cancel, or raced it). The order stays `close` and onPaid is
 * never called; the trade is recorded on it, an audit row says what happened, and the whole amount
 * is refunded through the ordinary refund flow, or left to a person when `refundLatePayments` is
 * off. Every path that learns of a payment (notify, check, confirm, reconciliation) ends here.
 */
export function latePaymentHandler(
  ctx: OrderContext,
  refund: OrderService['refund'],
): (orderId: string, trade: TradeSnapshot, via: PaidVia) => Promise<void> {
  const { deps, now, log, mustGet } = ctx
  const auto = deps.refundLatePayments ?? true
  return async (orderId, trade, via) => {
    const before = await mustGet(orderId)
    if (before.state !== 'close') return
    const record = latePaymentTransition(trade, before.tradeStatus)
    await deps.store.transition(orderId, record.from, record.patch, now())
    const order = await mustGet(orderId)
    // Once per order: a second notify, the return and the next reconciliation find it handled.
    const trail = await deps.store.auditTrail(orderId)
    if (
      trail.some((row) => row.action === LATE_PAYMENT_ACTIONS.refunding || row.action === LATE_PAYMENT_ACTIONS.flagged)
    ) {
      return
    }
    const detail = { via, tradeNo: trade.tradeNo, tradeStatus: trade.status, amount: trade.amount ?? order.amount }
    log.error('order.late-payment', { orderId, via, refund: auto })
    await deps.store.audit(
      orderId,
      {
        runId: undefined,
        action: auto ? LATE_PAYMENT_ACTIONS.refunding : LATE_PAYMENT_ACTIONS.flagged,
        toState: 'close',
        detail,
      },
      now(),
    )
    if (!auto) return
    try {
      await refund(orderId, order.amount, 'order cancelled before payment')
    } catch (error) {
      // Already refunded by a racing path: the reservation refused the second refund; nothing to do.
      if (error instanceof OrderError && error.code === 'REFUND_AMOUNT_EXCEEDED') return
      const code = error instanceof OrderError ? error.code : 'INTERNAL'
      log.error('order.late-payment-refund-failed', { orderId, code })
      await deps.store.audit(
        orderId,
        { runId: undefined, action: LATE_PAYMENT_ACTIONS.refundFailed, toState: 'close', detail: { ...detail, code } },
        now(),
      )
    }
  }
}
