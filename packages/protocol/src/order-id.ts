import { compactBeijingTime, parseBeijingTime } from './time.js'

/** Random digits after the timestamp: 10^18 ids per second, so a collision needs about 10^9 ids in one second. */
const RANDOM_DIGITS = 18

/**
 * A merchant order number as the order service makes them (openapi-protocol §9): `D` +
 * `yyyyMMddHHmmss` (Beijing time) + 18 random digits, e.g. `D20241220161615083169294718203554`.
 * 33 characters, digits only after the `D`: within the 64 characters out_trade_no allows (mapi-protocol §3).
 */
export function generateOrderId(now: Date = new Date()): string {
  const random = new BigUint64Array(1)
  crypto.getRandomValues(random)
  // 2^64 is about 18.4 × 10^18: taking it modulo 10^18 favours some values by at most one part in 18.
  const digits = ((random[0] ?? 0n) % 10n ** BigInt(RANDOM_DIGITS)).toString().padStart(RANDOM_DIGITS, '0')
  return `D${compactBeijingTime(now)}${digits}`
}

/** The shape generateOrderId produces. */
export const ORDER_ID_PATTERN = new RegExp(`^D\\d{14}\\d{${RANDOM_DIGITS}}$`)

/** When an id generateOrderId made was generated (to the second); undefined for any other id. */
export function orderIdTime(orderId: string): Date | undefined {
  if (!ORDER_ID_PATTERN.test(orderId)) return undefined
  const [y, mo, d, h, mi, s] = [1, 5, 7, 9, 11, 13].map((at) => orderId.slice(at, at + (at === 1 ? 4 : 2)))
  return parseBeijingTime(`${y}-${mo}-${d} ${h}:${mi}:${s}`)
}
