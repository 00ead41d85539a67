import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  buildRefundDetail,
  buildRefundResults,
  cleanRefundReason,
  parseRefundDetails,
  parseRefundResults,
} from './refund-batch.js'

const TRADE = '2024050121001004330200123456'
const OTHER = '2024050121001004330200654321'

/** Text without the grammar's separators. */
const plain = fc.string({ maxLength: 12 }).map((s) => s.replace(/[\^|$#]/g, ''))

describe('detail_data', () => {
  test('one entry is trade_no^amount^reason (the mapi-protocol §10.2 example)', () => {
    expect(buildRefundDetail([{ tradeNo: TRADE, amount: '0.01', reason: '协商退款' }])).toBe(
      '2024050121001004330200123456^0.01^协商退款',
    )
  })

  test('entries are joined with #', () => {
    const text = buildRefundDetail([
      { tradeNo: TRADE, amount: '0.04', reason: 'a' },
      { tradeNo: OTHER, amount: '1.00', reason: 'b' },
    ])
    expect(text).toBe(`${TRADE}^0.04^a#${OTHER}^1.00^b`)
    expect(parseRefundDetails(text)).toEqual([
      { tradeNo: TRADE, amount: '0.04', reason: 'a' },
      { tradeNo: OTHER, amount: '1.00', reason: 'b' },
    ])
  })

  test('an empty reason is still three fields', () => {
    expect(parseRefundDetails(`${TRADE}^0.01^`)).toEqual([{ tradeNo: TRADE, amount: '0.01', reason: '' }])
  })

  test('malformed entries, and fee or royalty parts, are undefined in place', () => {
    expect(parseRefundDetails(`${TRADE}^0.01`)).toEqual([undefined])
    expect(parseRefundDetails(`${TRADE}^0.01^a^b`)).toEqual([undefined])
    expect(parseRefundDetails(`${TRADE}^0.01^r$fee`)).toEqual([undefined])
    expect(parseRefundDetails(`${TRADE}^0.01^r|x`)).toEqual([undefined])
    expect(parseRefundDetails(`${TRADE}^0.01^a#bad`)).toEqual([
      { tradeNo: TRADE, amount: '0.01', reason: 'a' },
      undefined,
    ])
  })

  test('one entry per # plus one, so an empty text is one (malformed) entry', () => {
    expect(parseRefundDetails('')).toEqual([undefined])
    expect(parseRefundDetails('#')).toEqual([undefined, undefined])
  })

  test('fields are not judged here: the gateway does that', () => {
    expect(parseRefundDetails('x^0.001^r')).toEqual([{ tradeNo: 'x', amount: '0.001', reason: 'r' }])
  })

  test('what is built from plain fields parses back', () => {
    const entry = fc.record({ tradeNo: plain, amount: plain, reason: plain })
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), (entries) => {
        expect(parseRefundDetails(buildRefundDetail(entries))).toEqual(entries)
      }),
    )
  })
})

describe('result_details', () => {
  test('trade_no^amount^result per entry, joined with # (the mapi-protocol §10.3 example)', () => {
    expect(buildRefundResults([{ tradeNo: TRADE, amount: '0.01', result: 'SUCCESS' }])).toBe(
      '2024050121001004330200123456^0.01^SUCCESS',
    )
    expect(
      buildRefundResults([
        { tradeNo: TRADE, amount: '0.04', result: 'SUCCESS' },
        { tradeNo: OTHER, amount: '0.01', result: 'TRADE_STATUS_ERROR' },
      ]),
    ).toBe(`${TRADE}^0.04^SUCCESS#${OTHER}^0.01^TRADE_STATUS_ERROR`)
  })

  test('fee parts follow after $', () => {
    const text = buildRefundResults([
      { tradeNo: TRADE, amount: '0.01', result: 'SUCCESS', fees: ['seller@example.com^2088101122136241^0.01^SUCCESS'] },
    ])
    expect(text).toBe(`${TRADE}^0.01^SUCCESS$seller@example.com^2088101122136241^0.01^SUCCESS`)
    expect(parseRefundResults(text)).toEqual([
      { tradeNo: TRADE, amount: '0.01', result: 'SUCCESS', fees: ['seller@example.com^2088101122136241^0.01^SUCCESS'] },
    ])
  })

  test('the result is the third field before the first $', () => {
    expect(parseRefundResults(`${TRADE}^0.01^REFUND_AMOUNT_NOT_VALID#${OTHER}^0.02^SUCCESS$a^b^c^d`)).toEqual([
      { tradeNo: TRADE, amount: '0.01', result: 'REFUND_AMOUNT_NOT_VALID', fees: [] },
      { tradeNo: OTHER, amount: '0.02', result: 'SUCCESS', fees: ['a^b^c^d'] },
    ])
    expect(parseRefundResults(`${TRADE}^0.01^SUCCESS^more`)[0]?.result).toBe('SUCCESS')
  })

  test('missing fields stay undefined; a present empty field is empty', () => {
    expect(parseRefundResults('')).toEqual([{ tradeNo: '', amount: undefined, result: undefined, fees: [] }])
    expect(parseRefundResults(`${TRADE}^0.01`)).toEqual([
      { tradeNo: TRADE, amount: '0.01', result: undefined, fees: [] },
    ])
    expect(parseRefundResults(`${TRADE}^0.01^`)[0]?.result).toBe('')
    expect(parseRefundResults(`${TRADE}^0.01$x^y^z`)[0]?.result).toBeUndefined()
  })

  test('what is built from plain fields parses back', () => {
    const result = fc.record({ tradeNo: plain, amount: plain, result: plain, fees: fc.array(plain, { maxLength: 2 }) })
    fc.assert(
      fc.property(fc.array(result, { minLength: 1, maxLength: 5 }), (results) => {
        expect(parseRefundResults(buildRefundResults(results))).toEqual(results)
      }),
    )
  })
})

describe('cleanRefundReason', () => {
  test('each separator becomes a space', () => {
    expect(cleanRefundReason('a^b|c$d#e')).toBe('a b c d e')
    expect(cleanRefundReason('^^##')).toBe('    ')
    expect(cleanRefundReason('协商退款')).toBe('协商退款')
  })

  test('cut to 80 UTF-16 units, under the 256 bytes of mapi-protocol §10.1', () => {
    expect(cleanRefundReason('x'.repeat(100))).toBe('x'.repeat(80))
    expect(cleanRefundReason('长'.repeat(100))).toBe('长'.repeat(80))
    expect(new TextEncoder().encode(cleanRefundReason('长'.repeat(100))).length).toBe(240)
  })

  test('the result always fits the detail_data grammar', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (reason) => {
        const clean = cleanRefundReason(reason)
        expect(clean).not.toMatch(/[\^|$#]/)
        expect(clean.length).toBeLessThanOrEqual(80)
        expect(parseRefundDetails(buildRefundDetail([{ tradeNo: TRADE, amount: '0.01', reason: clean }]))).toEqual([
          { tradeNo: TRADE, amount: '0.01', reason: clean },
        ])
      }),
    )
  })
})
