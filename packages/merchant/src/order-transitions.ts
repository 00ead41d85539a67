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
 * - paid (TRADE_SUCCESS, TRADE_FINISHED): wait, timeout and close become success; a paid order
 *   keeps its state and takes the newer status (TRADE_SUCCESS → TRADE_FINISHED).
 * - TRADE_CLOSED: an unpaid order closes; a paid one (fully refunded) keeps success.
 * - anything else (WAIT_BUYER_PAY): only the status and trade number of an unpaid order.
 */
export function tradeTransition(trade: TradeSnapshot): { move: Transition; sync?: Transition } {
  const status = trade.status
  if (isPaidStatus(status))
    return { move: payTransition(trade), sync: { from: ['success'], patch: { tradeStatus: status } } }
  if (status === 'TRADE_CLOSED') {
    return {
      move: { from: ['wait', 'timeout'], patch: { state: 'close', tradeStatus: status, tradeNo: trade.tradeNo } },
      sync: { from: ['close', 'success'], patch: { tradeStatus: status } },
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
    from: ['wait', 'timeout', 'close'],
    patch: { state: 'success', tradeStatus: trade.status, tradeNo: trade.tradeNo, payTime: trade.payTime },
  }
}
