import { amountsEqual, type Params } from '@alipay-payment-handler/protocol'

/**
 * A trade as the gateway reports it, in one shape for both gateways: mapi's `total_fee` /
 * `gmt_payment` and openapi's `total_amount` / `send_pay_date` end up in the same fields, so the
 * order service checks and stores them once.
 */
export interface TradeSnapshot {
  outTradeNo: string | undefined
  tradeNo: string | undefined
  /** WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_FINISHED, TRADE_CLOSED (both gateways use these names). */
  status: string | undefined
  /** The trade's total as the gateway wrote it. */
  amount: string | undefined
  sellerId: string | undefined
  /** When it was paid, as the gateway wrote it (Beijing time). */
  payTime: string | undefined
  /** The gateway's fields exactly as received (checkThird's answer, audit detail). */
  raw: Params
}

/** What a trade query found: `found: false` is the gateway's "no such trade" (not an error). */
export type TradeLookup = { found: true; trade: TradeSnapshot } | { found: false }

/** Why a gateway-signed trade does not belong to an order (mapi-protocol §6.4, openapi-protocol §6.2). */
export type TradeMismatch = 'ORDER_MISMATCH' | 'AMOUNT_MISMATCH' | 'SELLER_MISMATCH'

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/** A mapi trade (single_trade_query's `<trade>`, a notify, a payment response) as a snapshot. */
export function mapiTrade(params: Readonly<Record<string, unknown>>): TradeSnapshot {
  return {
    outTradeNo: str(params['out_trade_no']),
    tradeNo: str(params['trade_no']),
    status: str(params['trade_status']),
    amount: str(params['total_fee']),
    sellerId: str(params['seller_id']),
    payTime: str(params['gmt_payment']) ?? str(params['notify_time']),
    raw: Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string')),
  }
}

/**
 * Checks that a trade is this order's: same order number, same amount (exactly, as decimals),
 * and our seller when both we and the gateway name one.
 */
export function tradeMismatch(
  order: { orderId: string; amount: string },
  trade: TradeSnapshot,
  sellerId: string | undefined,
): TradeMismatch | undefined {
  if (trade.outTradeNo !== order.orderId) return 'ORDER_MISMATCH'
  let equal = false
  try {
    equal = trade.amount !== undefined && amountsEqual(trade.amount, order.amount)
  } catch {
    equal = false
  }
  if (!equal) return 'AMOUNT_MISMATCH'
  if (sellerId !== undefined && trade.sellerId !== undefined && trade.sellerId !== sellerId) return 'SELLER_MISMATCH'
  return undefined
}
