import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { ProtocolError } from './errors.js'
import {
  addAmounts,
  amountsEqual,
  compareAmounts,
  fromFen,
  isAmountInRange,
  normalizeAmount,
  subtractAmounts,
  toFen,
} from './money.js'

describe('money on decimal strings', () => {
  test('documented pairs', () => {
    expect(toFen('10')).toBe(1000n)
    expect(toFen('0.01')).toBe(1n)
    expect(toFen('1.5')).toBe(150n)
    expect(fromFen(150n)).toBe('1.50')
    expect(fromFen(-5n)).toBe('-0.05')
    expect(normalizeAmount('1')).toBe('1.00')
    expect(addAmounts('0.10', '0.20')).toBe('0.30')
    expect(subtractAmounts('1.00', '0.30')).toBe('0.70')
    expect(amountsEqual('1', '1.00')).toBe(true)
    expect(amountsEqual('1.01', '1.1')).toBe(false)
    expect(compareAmounts('2', '10')).toBe(-1)
    expect(isAmountInRange('100000000.00')).toBe(true)
    expect(isAmountInRange('100000000.01')).toBe(false)
  })

  test('0.1 + 0.2 is exactly 0.30, unlike floats', () => {
    expect(addAmounts('0.1', '0.2')).toBe('0.30')
  })

  test.each([['1.001'], ['abc'], [''], ['1e2'], ['-1'], ['.5'], ['1.'], ['１']])('"%s" is not an amount', (value) => {
    expect(() => toFen(value)).toThrow(ProtocolError)
  })

  test('a number instead of a string is refused with AMOUNT_INVALID', () => {
    expect(() => toFen(99.99 as unknown as string)).toThrow(expect.objectContaining({ code: 'AMOUNT_INVALID' }))
  })

  test('fromFen and toFen round-trip every amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 13n }), (fen) => {
        expect(toFen(fromFen(fen))).toBe(fen)
      }),
    )
  })

  test('addition is exact and commutative', () => {
    const amount = fc.bigInt({ min: 0n, max: 10n ** 10n }).map(fromFen)
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        expect(addAmounts(a, b)).toBe(addAmounts(b, a))
        expect(toFen(addAmounts(a, b))).toBe(toFen(a) + toFen(b))
      }),
    )
  })
})
