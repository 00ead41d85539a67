import { describe, expect, test } from 'vitest'
import {
  itBPayDeadline,
  parseItBPay,
  parseRelativeTimeout,
  relativeMinutesUntil,
  relativeTimeoutMs,
  toTimeoutExpress,
} from './rules.js'
import { formatBeijingTime } from './time.js'

const NOON = Date.UTC(2024, 4, 1, 4, 0, 0) // 2024-05-01 12:00 Beijing

describe('parseRelativeTimeout', () => {
  test('whole minutes, hours and days, and 1c (mapi-protocol §3.4, openapi-protocol §5.1)', () => {
    expect(parseRelativeTimeout('90m')).toEqual({ kind: 'minutes', minutes: 90 })
    expect(parseRelativeTimeout('2h')).toEqual({ kind: 'minutes', minutes: 120 })
    expect(parseRelativeTimeout('1d')).toEqual({ kind: 'minutes', minutes: 1440 })
    expect(parseRelativeTimeout('1c')).toEqual({ kind: 'midnight' })
  })

  test('from 1m to 15d, no fractions, no leading zeros, no other c', () => {
    for (const ok of ['1m', '21600m', '360h', '15d']) expect(parseRelativeTimeout(ok)).toBeDefined()
    for (const bad of ['0m', '21601m', '361h', '16d', '1.5h', '05m', '2c', '90', 'm', '', ' 1m', '1M'])
      expect([bad, parseRelativeTimeout(bad)]).toEqual([bad, undefined])
  })

  test('loose: the sandbox reads timeout_express as up to five digits, zero and leading zeros included', () => {
    expect(parseRelativeTimeout('0m', { loose: true })).toEqual({ kind: 'minutes', minutes: 0 })
    expect(parseRelativeTimeout('05m', { loose: true })).toEqual({ kind: 'minutes', minutes: 5 })
    expect(parseRelativeTimeout('16d', { loose: true })).toEqual({ kind: 'minutes', minutes: 16 * 1440 })
    expect(parseRelativeTimeout('99999d', { loose: true })).toEqual({ kind: 'minutes', minutes: 99999 * 1440 })
    expect(parseRelativeTimeout('1c', { loose: true })).toEqual({ kind: 'midnight' })
    for (const bad of ['100000m', '1.5h', '2c', '90', ''])
      expect([bad, parseRelativeTimeout(bad, { loose: true })]).toEqual([bad, undefined])
  })

  test('it_b_pay is a relative timeout, or an absolute time where allowed', () => {
    expect(parseItBPay('30m')).toEqual(parseRelativeTimeout('30m'))
    expect(parseItBPay('16d', { allowAbsolute: true })).toBeUndefined()
    expect(parseItBPay('2030-01-01 10:00:00')).toBeUndefined()
    expect(parseItBPay('2030-01-01 10:00:00', { allowAbsolute: true })?.kind).toBe('absolute')
  })
})

describe('relativeTimeoutMs', () => {
  test('minutes in milliseconds', () => {
    expect(relativeTimeoutMs(parseRelativeTimeout('90m')!, NOON)).toBe(90 * 60_000)
    expect(relativeTimeoutMs(parseRelativeTimeout('2h')!, NOON)).toBe(2 * 3_600_000)
    expect(relativeTimeoutMs(parseRelativeTimeout('15d')!, NOON)).toBe(15 * 86_400_000)
  })

  test('1c runs until the next Beijing midnight, as itBPayDeadline says', () => {
    expect(relativeTimeoutMs({ kind: 'midnight' }, NOON)).toBe(12 * 3_600_000)
    expect(formatBeijingTime(new Date(NOON + relativeTimeoutMs({ kind: 'midnight' }, NOON)))).toBe(
      '2024-05-02 00:00:00',
    )
    const midnight = Date.UTC(2024, 4, 1, 16, 0, 0) // 2024-05-02 00:00 Beijing
    expect(relativeTimeoutMs({ kind: 'midnight' }, midnight)).toBe(86_400_000)
    expect(relativeTimeoutMs({ kind: 'midnight' }, midnight - 1)).toBe(1)
    for (const at of [NOON, midnight, midnight - 1, midnight + 1])
      expect(at + relativeTimeoutMs({ kind: 'midnight' }, at)).toBe(
        itBPayDeadline({ kind: 'midnight' }, new Date(at)).getTime(),
      )
  })
})

describe('relativeMinutesUntil', () => {
  const now = new Date(NOON)
  test('whole minutes left, rounded down', () => {
    expect(relativeMinutesUntil(new Date(NOON + 10 * 60_000 + 59_999), now)).toBe('10m')
    expect(relativeMinutesUntil(new Date(NOON + 60_000), now)).toBe('1m')
  })
  test('undefined under a minute; capped at 21600m (15 days)', () => {
    expect(relativeMinutesUntil(new Date(NOON + 59_999), now)).toBeUndefined()
    expect(relativeMinutesUntil(new Date(NOON - 60_000), now)).toBeUndefined()
    expect(relativeMinutesUntil(new Date(NOON + 30 * 86_400_000), now)).toBe('21600m')
  })
})

describe('toTimeoutExpress', () => {
  test('openapi spells the unit out; a bare number is minutes', () => {
    expect(toTimeoutExpress('90')).toBe('90m')
    expect(toTimeoutExpress('90m')).toBe('90m')
    expect(toTimeoutExpress('2h')).toBe('2h')
    expect(toTimeoutExpress('1c')).toBe('1c')
  })
})
