/**
 * Face-to-face barcode payment (`alipay.trade.pay`, scene `bar_code`): how the merchant reads the
 * reply and what it does next (openapi-protocol §14.1). The flow itself runs in the merchant library.
 */

/** A buyer's payment code: 18 digits starting 25–30 in Alipay's documentation (openapi-protocol §14.1). */
export const BUYER_AUTH_CODE = /^(2[5-9]|30)\d{14,22}$/

/** How long to wait between two queries of a trade waiting for the buyer's password. */
export const BARCODE_POLL_INTERVAL_MS = 5_000
/** How long to keep querying before the trade is cancelled; 30 s is an inference (openapi-protocol §14.1). */
export const BARCODE_TIME_LIMIT_MS = 30_000

/**
 * What a barcode payment's first reply means:
 * - `paid`: `10000` (the money moved);
 * - `waiting`: `10003`, the buyer must confirm with a password: query until final, else cancel;
 * - `unknown`: `20000` or no usable reply (timeout, 5xx): query, then cancel if still unknown;
 * - `failed`: `40004` (or any other code): a business failure; the sub-code says why.
 */
export type BarcodeReplyKind = 'paid' | 'waiting' | 'unknown' | 'failed'

/** Classifies the `code` of an `alipay.trade.pay` reply (undefined when no reply arrived). */
export function classifyBarcodeReply(code: string | undefined): BarcodeReplyKind {
  if (code === '10000') return 'paid'
  if (code === '10003') return 'waiting'
  if (code === undefined || code === '20000') return 'unknown'
  return 'failed'
}

/** What a query during polling means for a barcode trade: final (`paid`/`closed`) or keep waiting. */
export function barcodeQueryOutcome(tradeStatus: string | undefined): 'paid' | 'closed' | 'pending' {
  if (tradeStatus === 'TRADE_SUCCESS' || tradeStatus === 'TRADE_FINISHED') return 'paid'
  if (tradeStatus === 'TRADE_CLOSED') return 'closed'
  return 'pending'
}
