import { parseBeijingTime } from './time.js'

/** Alipay user ids: partner, seller and buyer (mapi §3.4). */
export const ALIPAY_USER_ID = /^2088\d{12}$/

/** Merchant order numbers: letters, digits, `-`, `_`, at most 64 (mapi §3.4, inferred charset). */
export const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/

/** Relative `it_b_pay` forms: whole m/h/d, or `1c` (next midnight). Decimals are refused. */
const IT_B_PAY_RELATIVE = /^(?:([1-9]\d*)([mhd])|1c)$/

/** Upper bounds of each unit: 15 days (mapi §3.4). */
const IT_B_PAY_MAX: Record<string, number> = { m: 21_600, h: 360, d: 15 }
const MINUTES_PER: Record<string, number> = { m: 1, h: 60, d: 1440 }

export type ItBPay = { kind: 'minutes'; minutes: number } | { kind: 'midnight' } | { kind: 'absolute'; at: Date }

/**
 * Parses `it_b_pay`: `30m`, `2h`, `1d`, `1c`, or (APP-pay only) an absolute Beijing time.
 * Undefined when malformed or out of range.
 */
export function parseItBPay(value: string, options: { allowAbsolute?: boolean } = {}): ItBPay | undefined {
  if (value === '1c') return { kind: 'midnight' }
  const m = IT_B_PAY_RELATIVE.exec(value)
  if (m) {
    const amount = Number(m[1])
    const unit = m[2] ?? 'm'
    if (amount > (IT_B_PAY_MAX[unit] ?? 0)) return undefined
    return { kind: 'minutes', minutes: amount * (MINUTES_PER[unit] ?? 1) }
  }
  if (options.allowAbsolute) {
    const at = parseBeijingTime(value)
    if (at) return { kind: 'absolute', at }
  }
  return undefined
}

/** When an order with this `it_b_pay`, created at `createdAt`, stops being payable. */
export function itBPayDeadline(value: ItBPay, createdAt: Date): Date {
  if (value.kind === 'absolute') return value.at
  if (value.kind === 'minutes') return new Date(createdAt.getTime() + value.minutes * 60_000)
  // `1c`: the next midnight, Beijing time.
  const beijing = createdAt.getTime() + 8 * 3600_000
  const nextMidnight = Math.floor(beijing / 86_400_000 + 1) * 86_400_000
  return new Date(nextMidnight - 8 * 3600_000)
}

/** Absolute http(s) URL without a query string or fragment (mapi §14.12). */
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
