/**
 * The text grammar of mapi refund batches: `detail_data` in the request (mapi-protocol §10.1) and
 * `result_details` in `batch_refund_notify` (mapi-protocol §10.3). Entries are joined with `#`, their
 * fields with `^`; a result entry may continue with fee parts after `$`.
 */

/** One entry of `detail_data`: `trade_no^amount^reason`. */
export interface RefundDetail {
  tradeNo: string
  amount: string
  reason: string
}

/** One entry of `result_details` to write: `trade_no^amount^result`, then `$fee` per fee part. */
export interface RefundResult {
  tradeNo: string
  amount: string
  /** `SUCCESS` or an error code (mapi-protocol §13). */
  result: string
  /** Fee parts (`account^account_id^fee^result`), written after `$` each. */
  fees?: readonly string[]
}

/** One entry of `result_details` as read: the fields it has, nothing filled in. */
export interface ParsedRefundResult {
  tradeNo: string
  /** Undefined when the entry has no second field. */
  amount: string | undefined
  /** `SUCCESS` or an error code; undefined when the entry has no third field. */
  result: string | undefined
  /** The fee parts after `$`, verbatim. */
  fees: string[]
}

const ENTRY = '#'
const FIELD = '^'
const FEE = '$'
/** `|` separates royalty parts in the full grammar; the kit never sends or reads them. */
const ROYALTY = '|'

/** Characters a refund reason must not contain: the grammar's separators (mapi-protocol §10.1). */
const SEPARATORS = /[\^|$#]/g

/** Longest reason kept: 80 UTF-16 units are at most 240 UTF-8 bytes, under mapi-protocol §10.1's 256. */
const REASON_MAX_UNITS = 80

/** `detail_data` of a batch: `trade_no^amount^reason` per entry, joined with `#` (mapi-protocol §10.1). */
export function buildRefundDetail(entries: readonly RefundDetail[]): string {
  return entries.map((e) => `${e.tradeNo}${FIELD}${e.amount}${FIELD}${e.reason}`).join(ENTRY)
}

/**
 * Splits `detail_data` into its entries, one per `#` plus one (mapi-protocol §10.1). An entry that is not
 * exactly three `^` fields, or that carries a fee (`$`) or royalty (`|`) part, is undefined: the
 * kit does not speak those parts. Field contents are not checked here.
 */
export function parseRefundDetails(detailData: string): (RefundDetail | undefined)[] {
  return detailData.split(ENTRY).map((item) => {
    const parts = item.split(FIELD)
    if (parts.length !== 3 || item.includes(FEE) || item.includes(ROYALTY)) return undefined
    const [tradeNo, amount, reason] = parts as [string, string, string]
    return { tradeNo, amount, reason }
  })
}

/** `result_details` of a batch_refund_notify: `trade_no^amount^result[$fee…]` per entry, joined with `#` (mapi-protocol §10.3). */
export function buildRefundResults(results: readonly RefundResult[]): string {
  return results
    .map((r) => [`${r.tradeNo}${FIELD}${r.amount}${FIELD}${r.result}`, ...(r.fees ?? [])].join(FEE))
    .join(ENTRY)
}

/**
 * Reads `result_details` (mapi-protocol §10.3): one entry per `#` plus one, so an empty text is one empty
 * entry. Fields are taken from the part before the first `$`; missing ones are undefined.
 */
export function parseRefundResults(resultDetails: string): ParsedRefundResult[] {
  return resultDetails.split(ENTRY).map((item) => {
    const [main = '', ...fees] = item.split(FEE)
    const [tradeNo = '', amount, result] = main.split(FIELD)
    return { tradeNo, amount, result, fees }
  })
}

/**
 * A refund reason the batch grammar can carry: each separator (`^ | $ #`) becomes a space, and the
 * text is cut to 80 UTF-16 units so it stays under 256 UTF-8 bytes (mapi-protocol §10.1).
 */
export function cleanRefundReason(reason: string): string {
  return reason.replace(SEPARATORS, ' ').slice(0, REASON_MAX_UNITS)
}
