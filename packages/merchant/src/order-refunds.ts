import { cleanRefundReason, compactBeijingTime, isPaidStatus } from '@alipay-payment-handler/protocol'
import { assertAmount, gatewayFailure, type OrderContext } from './order-context.js'
import { OrderError } from './order-errors.js'
import type { OrderService } from './order-types.js'
import type { Order, Refund } from './order-store.js'

/** Refund numbers: mapi batch_no (yyyyMMdd + digits), also a valid openapi out_request_no. */
const REFUND_NO = /^[A-Za-z0-9_-]{1,64}$/

/** Refunding a paid order, idempotently by refund number, and listing its refunds. */
export function refundUseCases(ctx: OrderContext): Pick<OrderService, 'refund' | 'refunds'> {
  const { deps, now, log, gateway, mustGet } = ctx

  /** Sends a reserved refund to the gateway and settles it by the answer. */
  async function submitRefund(order: Order, refund: Refund): Promise<Refund> {
    let answer
    try {
      answer = await gateway.refund({
        refundNo: refund.batchNo,
        orderId: order.orderId,
        tradeNo: order.tradeNo ?? '',
        amount: refund.amount,
        reason: refund.reason,
        notifyUrl: deps.refundNotifyUrl,
      })
    } catch (error) {
      // Unknown whether the gateway took it: keep the reservation pending. A retry with the same
      // refundNo resubmits it; the refund notify settles it.
      gatewayFailure(error, { refundNo: refund.batchNo })
    }
    if (answer.state === 'refused') {
      await deps.store.settleRefund(refund.batchNo, 'failed', answer.error, now())
      throw new OrderError('REFUND_REFUSED', `the gateway refused the refund: ${answer.error}`, {
        gatewayCode: answer.error,
        refundNo: refund.batchNo,
      })
    }
    await deps.store.settleRefund(refund.batchNo, answer.state, undefined, now())
    const settled = (await deps.store.refunds(order.orderId)).find((r) => r.batchNo === refund.batchNo)
    if (!settled) throw new Error(`refund ${refund.batchNo} vanished`)
    return settled
  }

  const newRefundNo = () => {
    const random = new Uint32Array(2)
    crypto.getRandomValues(random)
    return `${compactBeijingTime(new Date(now())).slice(0, 8)}${String(random[0]).padStart(10, '0')}${String((random[1] ?? 0) % 100).padStart(2, '0')}`
  }

  return {
    async refund(orderId, amount, reason, refundNo) {
      const value = assertAmount(amount)
      const order = await mustGet(orderId)
      // A cancelled order paid all the same (order-late-payment) is refunded like a paid one.
      const latePaid = order.state === 'close' && (isPaidStatus(order.tradeStatus) || order.refunded !== '0.00')
      if ((order.state !== 'success' && !latePaid) || !order.tradeNo) {
        throw new OrderError(
          'ORDER_STATE_CONFLICT',
          `order ${orderId} is ${order.state}; only paid orders are refunded`,
          {
            orderId,
            status: order.state,
          },
        )
      }
      if (refundNo !== undefined && !REFUND_NO.test(refundNo)) {
        throw new OrderError('REFUND_CONFLICT', 'refundNo must be 1 to 64 letters, digits, "-" or "_"', { refundNo })
      }
      const existing =
        refundNo === undefined ? undefined : (await deps.store.refunds(orderId)).find((r) => r.batchNo === refundNo)
      if (existing) {
        if (existing.amount !== value) {
          throw new OrderError('REFUND_CONFLICT', `refund ${refundNo} of order ${orderId} was for ${existing.amount}`, {
            refundNo,
            amount: existing.amount,
          })
        }
        // Settled, or (mapi) accepted and waiting for its notify: the same answer again.
        if (existing.state === 'success' || existing.state === 'failed') return existing
        if (existing.state === 'submitted' && gateway.kind === 'mapi') return existing
        log.info('order.refund-retry', { orderId, refundNo })
        return submitRefund(order, existing)
      }
      // A reason the mapi batch grammar can carry (mapi-protocol §10.1); openapi gets the same text.
      const cleanReason = cleanRefundReason(reason || 'refund')
      const batchNo = refundNo ?? newRefundNo()
      const reserved = await deps.store.reserveRefund({ batchNo, orderId, amount: value, reason: cleanReason }, now())
      if (!reserved) {
        throw new OrderError('REFUND_AMOUNT_EXCEEDED', `refunds of order ${orderId} would exceed ${order.amount}`, {
          orderId,
          refunded: order.refunded,
          requested: value,
        })
      }
      return submitRefund(order, {
        batchNo,
        orderId,
        amount: value,
        reason: cleanReason,
        state: 'pending',
        gatewayCode: undefined,
      })
    },

    refunds: (orderId) => deps.store.refunds(orderId),
  }
}
