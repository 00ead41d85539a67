import { ProtocolError } from './errors.js'

/** Amounts on the wire: RMB yuan, at most two decimals, no sign, no exponent, no leading zeros. */
const AMOUNT_PATTERN = /^(0|[1-9]\d{0,11})(\.\d{1,2})?$/

/** The gateway's amount range, in fen: [0.01, 100000000.00] (mapi-protocol §3.4). */
export const MIN_AMOUNT_FEN = 1n
export const MAX_AMOUNT_FEN = 10_000_000_000n

/** True when `value` is a well-formed amount string (not checking the range). */
export function isAmountString(value: unknown): value is string {
  return typeof value === 'string' && AMOUNT_PATTERN.test(value)
}

/**
 * Parses a decimal amount string into whole fen, exactly. Floats are refused, because a
 * float amount has already lost its exact value before it reaches us.
 *   toFen('10') === 1000n, toFen('0.01') === 1n, toFen('1.5') === 150n
 */
export function toFen(value: string): bigint {
  if (typeof value !== 'string') {
    throw new ProtocolError('AMOUNT_INVALID', `amount must be a decimal string, got ${typeof value}`, {
      value: String(value),
    })
  }
  const match = AMOUNT_PATTERN.exec(value)
  if (!match) {
    throw new ProtocolError('AMOUNT_INVALID', `amount "${value}" is not a decimal string with at most 2 decimals`, {
      value,
    })
  }
  const whole = BigInt(match[1] ?? '0')
  const fraction = (match[2] ?? '.').slice(1).padEnd(2, '0')
  return whole * 100n + BigInt(fraction)
}

/** Formats fen as the canonical two-decimal string: fromFen(150n) === '1.50'. */
export function fromFen(fen: bigint): string {
  const sign = fen < 0n ? '-' : ''
  const abs = fen < 0n ? -fen : fen
  const fraction = (abs % 100n).toString().padStart(2, '0')
  return `${sign}${abs / 100n}.${fraction}`
}

/** Canonical form of an amount string: normalizeAmount('1') === '1.00'. */
export function normalizeAmount(value: string): string {
  return fromFen(toFen(value))
}

/** True when two amount strings are the same number: '1' equals '1.00'. */
export function amountsEqual(a: string, b: string): boolean {
  return toFen(a) === toFen(b)
}

/** Compares two amount strings numerically: negative, zero or positive. */
export function compareAmounts(a: string, b: string): number {
  const diff = toFen(a) - toFen(b)
  return diff < 0n ? -1 : diff > 0n ? 1 : 0
}

/** True when the amount is inside the gateway's range [0.01, 100000000.00]. */
export function isAmountInRange(value: string): boolean {
  const fen = toFen(value)
  return fen >= MIN_AMOUNT_FEN && fen <= MAX_AMOUNT_FEN
}

/** Sums amount strings exactly: addAmounts('0.10', '0.20') === '0.30'. */
export function addAmounts(...values: string[]): string {
  return fromFen(values.reduce((sum, value) => sum + toFen(value), 0n))
}

/** Subtracts exactly: subtractAmounts('1.00', '0.30') === '0.70' (may be negative). */
export function subtractAmounts(a: string, b: string): string {
  return fromFen(toFen(a) - toFen(b))
}
