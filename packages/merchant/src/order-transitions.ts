import type { TradeSnapshot } from '@alipay-payment-handler/gateway-client'
import { isPaidStatus } from '@alipay-payment-handler/protocol'
import type { OrderPatch, OrderState } from './order-store.js'

/** A compare-and-set on an order: applies `patch` only while the order is in one of `from`. */
export interface Transition {
  from: readonly OrderState[]
  patch: OrderPatch
}

/**
 * What a trade the gateway vouched for does to its order: `move` changes the order's state; when
 * the order is not in a state `move` starts from, `sync` (if any) records the gateway's newest
 * status without changing the state. Pure: notify, check, confirm and reconciliation all call it
 * and then apply it with the store's compare-and-set, so two paths racing never pay twice.
 *
 * - paid (TRADE_SUCCESS, TRADE_FINISHED): wait and timeout become success; a paid order keeps its
 *   state and takes the newer status (TRADE_SUCCESS → TRADE_FINISHED). A cancelled (`close`) order
 *   never becomes success: its payment is a late one (`latePaymentTransition`), refunded.
 * - TRADE_CLOSED: an unpaid order closes; a paid one (fully refunded) keeps success.
 * - anything else (WAIT_BUYER_PAY): only the status and trade number of an unpaid order.
 *
 * `current` is the order's recorded gateway status: the status-only `sync` is left out unless the
 * trade's status is later in its life than that one.
 */
export function tradeTransition(
  trade: TradeSnapshot,
  current?: string | undefined,
): { move: Transition; sync?: Transition } {
  const status = trade.status
  // The recorded gateway status only moves forward in the trade's life: a late TRADE_SUCCESS
  // after the refund's TRADE_CLOSED, or a replayed one after TRADE_FINISHED, changes nothing.
  const forward = statusRank(status) > statusRank(current)
  if (isPaidStatus(status)) {
    const sync: Transition = { from: ['success'], patch: { tradeStatus: status } }
    return { move: payTransition(trade), ...(forward ? { sync } : {}) }
  }
  if (status === 'TRADE_CLOSED') {
    const sync: Transition = { from: ['close', 'success'], patch: { tradeStatus: status } }
    return {
      move: { from: ['wait', 'timeout'], patch: { state: 'close', tradeStatus: status, tradeNo: trade.tradeNo } },
      ...(forward ? { sync } : {}),
    }
  }
  return { move: { from: ['wait', 'timeout', 'close'], patch: { tradeStatus: status, tradeNo: trade.tradeNo } } }
}

/**
 * The move to paid, for a trade already proven paid: by its status, or (a confirmed browser
 * response whose return carries no status) by the gateway's word. The trade's own fields are kept.
 */
export function payTransition(trade: TradeSnapshot): Transition {
  return {
    from: ['wait', 'timeout'],
    patch: { state: 'success', tradeStatus: trade.status, tradeNo: trade.tradeNo, payTime: trade.payTime },
  }
}

/**
 * What a paid trade does to a cancelled order: it records the trade (number, time, and the status
 * while it moves forward) and keeps the order closed, so the refund can name the trade.
 */
export function latePaymentTransition(trade: TradeSnapshot, current?: string | undefined): Transition {
  const forward = statusRank(trade.status) > statusRank(current)
  return {
    from: ['close'],
    patch: { ...(forward ? { tradeStatus: trade.status } : {}), tradeNo: trade.tradeNo, payTime: trade.payTime },
  }
}

/** A trade's statuses in the order its life goes through them (mapi-protocol §11.1). */
const LIFECYCLE = ['WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_CLOSED']

/** Where a status stands in the trade's life; none or unknown is before the start. */
function statusRank(status: string | undefined): number {
  return status === undefined ? -1 : LIFECYCLE.indexOf(status)
}
