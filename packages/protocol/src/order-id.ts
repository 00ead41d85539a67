import { compactBeijingTime } from './time.js'

/**
 * A merchant order number as the order service makes them (openapi-protocol §9): `D` + `yyyyMMddHHmmss`
 * (Beijing time) + 6 random digits, e.g. `D20241220161615000001`.
 */
export function generateOrderId(now: Date = new Date()): string {
  const random = new Uint32Array(1)
  crypto.getRandomValues(random)
  return `D${compactBeijingTime(now)}${String((random[0] ?? 0) % 1_000_000).padStart(6, '0')}`
}

/** The shape generateOrderId produces. */
export const ORDER_ID_PATTERN = /^D\d{14}\d{6}$/
