import { parseBeijingTime } from './time.js'

/** Alipay user ids: partner, seller and buyer (mapi-protocol §3.4). */
export const ALIPAY_USER_ID = /^2088\d{12}$/

/** Merchant order numbers: letters, digits, `-`, `_`, at most 64 (mapi-protocol §3.4, inferred charset). */
export const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/

/** Relative forms: whole m/h/d, or `1c` (next midnight). Decimals are refused (mapi-protocol §3.4). */
const RELATIVE_TIMEOUT = /^(?:([1-9]\d*)([mhd])|1c)$/
/** The sandbox's openapi reading of `timeout_express`: up to five digits, 0 and leading zeros included [sandbox]. */
const LOOSE_RELATIVE_TIMEOUT = /^(\d{1,5})([mhd])$/

/** Upper bounds of each unit: 15 days (mapi-protocol §3.4, openapi-protocol §5.1). */
const MAX_MINUTES = 21_600
const RELATIVE_TIMEOUT_MAX: Record<string, number> = { m: MAX_MINUTES, h: 360, d: 15 }
const MINUTES_PER: Record<string, number> = { m: 1, h: 60, d: 1440 }

const BEIJING_OFFSET_MS = 8 * 3600_000
const DAY_MS = 86_400_000

/** A relative timeout: mapi `it_b_pay` or openapi `timeout_express` (`30m`, `2h`, `1d`, `1c`). */
export type RelativeTimeout = { kind: 'minutes'; minutes: number } | { kind: 'midnight' }
export type ItBPay = RelativeTimeout | { kind: 'absolute'; at: Date }

/**
 * Parses a relative timeout: whole minutes, hours or days from `1m` to `15d`, or `1c` (mapi-protocol §3.4,
 * openapi-protocol §5.1). `loose` is how the sandbox reads openapi's `timeout_express`: at most five digits,
 * zero and leading zeros allowed, no upper bound [sandbox]. Undefined when malformed or out of range.
 */
export function parseRelativeTimeout(value: string, options: { loose?: boolean } = {}): RelativeTimeout | undefined {
  if (value === '1c') return { kind: 'midnight' }
  const m = (options.loose ? LOOSE_RELATIVE_TIMEOUT : RELATIVE_TIMEOUT).exec(value)
  if (!m) return undefined
  const amount = Number(m[1])
  const unit = m[2] ?? 'm'
  if (!options.loose && amount > (RELATIVE_TIMEOUT_MAX[unit] ?? 0)) return undefined
  return { kind: 'minutes', minutes: amount * (MINUTES_PER[unit] ?? 1) }
}

/**
 * Parses `it_b_pay`: `30m`, `2h`, `1d`, `1c`, or (APP-pay only) an absolute Beijing time.
 * Undefined when malformed or out of range.
 */
export function parseItBPay(value: string, options: { allowAbsolute?: boolean } = {}): ItBPay | undefined {
  // An out-of-range relative value is never a timestamp either, so falling through is safe.
  const relative = parseRelativeTimeout(value)
  if (relative) return relative
  if (options.allowAbsolute) {
    const at = parseBeijingTime(value)
    if (at) return { kind: 'absolute', at }
  }
  return undefined
}

/** The next midnight, Beijing time, after the instant `ms` (what `1c` runs until). */
function nextBeijingMidnight(ms: number): number {
  return Math.floor((ms + BEIJING_OFFSET_MS) / DAY_MS + 1) * DAY_MS - BEIJING_OFFSET_MS
}

/** When an order with this `it_b_pay`, created at `createdAt`, stops being payable. */
export function itBPayDeadline(value: ItBPay, createdAt: Date): Date {
  if (value.kind === 'absolute') return value.at
  if (value.kind === 'minutes') return new Date(createdAt.getTime() + value.minutes * 60_000)
  return new Date(nextBeijingMidnight(createdAt.getTime()))
}

/** How many milliseconds a relative timeout lasts from the instant `now` (`1c`: until the next midnight). */
export function relativeTimeoutMs(value: RelativeTimeout, now: number): number {
  return value.kind === 'minutes' ? value.minutes * 60_000 : nextBeijingMidnight(now) - now
}

/**
 * Whole minutes from `now` to `deadline` as a relative timeout (`90m`), capped at 15 days: the
 * web services take only relative forms (mapi-protocol §2.2, mapi-protocol §3.4). Undefined when less than a minute is left.
 */
export function relativeMinutesUntil(deadline: Date, now: Date): string | undefined {
  const minutes = Math.floor((deadline.getTime() - now.getTime()) / 60_000)
  return minutes >= 1 ? `${Math.min(minutes, MAX_MINUTES)}m` : undefined
}

/** An `it_b_pay` as openapi's `timeout_express`, which spells the unit out: a bare number is minutes (`90` → `90m`). */
export function toTimeoutExpress(itBPay: string): string {
  return /^\d+$/.test(itBPay) ? `${itBPay}m` : itBPay
}

/** Absolute http(s) URL without a query string or fragment (mapi-protocol §14.12). */
export function isNotifyUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false
  try {
    const url = new URL(value)
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.search === '' &&
      url.hash === '' &&
      !value.includes('?')
    )
  } catch {
    return false
  }
}

/** A seller account: an Alipay user id, an e-mail address or a mainland mobile number. */
export function isSellerAccount(value: string): boolean {
  return ALIPAY_USER_ID.test(value) || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) || /^1\d{10}$/.test(value)
}

/** Length in characters (code points), the unit of the gateway's String(n) limits. */
export function charLength(value: string): number {
  let n = 0
  for (const _ of value) n++
  return n
}
