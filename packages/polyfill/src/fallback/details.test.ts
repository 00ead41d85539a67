import { expect, test } from 'vitest'
import { checkAndCanonicalizeAmount, checkAndCanonicalizeTotal, processDetails, toDetailsInit } from './details.js'

const amount = (currency: string, value: string) => ({ currency, value })

test('a currency that is not three ASCII letters is a RangeError, checked before the value', () => {
  for (const currency of ['', 'CN', 'CNYY', 'C1Y', 'ÇNY', '  CNY']) {
    expect(() => checkAndCanonicalizeAmount(amount(currency, 'bad'))).toThrow(RangeError)
  }
})

test('currencies are upper-cased, values kept as written', () => {
  const a = amount('cny', '1.000')
  checkAndCanonicalizeAmount(a)
  expect(a).toEqual({ currency: 'CNY', value: '1.000' })
})

test('values must be valid decimal monetary values', () => {
  for (const value of ['', '1.', '.5', '1e3', '+1', '1,0', ' 1', '0x10', '--1', '1.2.3']) {
    expect(() => checkAndCanonicalizeAmount(amount('CNY', value))).toThrow(TypeError)
  }
  for (const value of ['0', '-1', '-0.5', '00012.340', '99999999999999999999.99']) {
    expect(() => checkAndCanonicalizeAmount(amount('CNY', value))).not.toThrow()
  }
})

test('a negative total is a TypeError, a negative display item is fine', () => {
  expect(() => checkAndCanonicalizeTotal(amount('CNY', '-1'))).toThrow(TypeError)
  const details = toDetailsInit({
    total: { label: 'T', amount: amount('CNY', '1') },
    displayItems: [{ label: 'discount', amount: amount('CNY', '-1') }],
  })
  expect(() => processDetails(details, false)).not.toThrow()
})

test('numbers become strings through the IDL conversion', () => {
  const details = toDetailsInit({ total: { label: 'T', amount: { currency: 'CNY', value: 1.0 } } })
  expect(details.total.amount.value).toBe('1')
})

test('missing required members are TypeErrors', () => {
  expect(() => toDetailsInit({})).toThrow(TypeError)
  expect(() => toDetailsInit({ total: { label: 'T' } })).toThrow(TypeError)
  expect(() => toDetailsInit({ total: { amount: amount('CNY', '1') } })).toThrow(TypeError)
  expect(() => toDetailsInit({ total: { label: 'T', amount: { currency: 'CNY' } } })).toThrow(TypeError)
  expect(() => toDetailsInit(5)).toThrow(TypeError)
})

test('modifiers: amounts checked, data serialized then removed; identifiers only checked on update', () => {
  const details = toDetailsInit({
    total: { label: 'T', amount: amount('CNY', '1') },
    modifiers: [{ supportedMethods: 'NOT VALID', total: { label: 'M', amount: amount('cny', '2') }, data: { d: 1 } }],
  })
  expect(processDetails(details, false)).toEqual([['NOT VALID', '{"d":1}']])
  expect(details.modifiers?.[0]).toEqual({
    supportedMethods: 'NOT VALID',
    total: { label: 'M', amount: amount('CNY', '2'), pending: false },
  })
  const update = toDetailsInit({
    total: { label: 'T', amount: amount('CNY', '1') },
    modifiers: [{ supportedMethods: 'NOT VALID' }],
  })
  expect(() => processDetails(update, true)).toThrow(RangeError)
  const negative = toDetailsInit({
    total: { label: 'T', amount: amount('CNY', '1') },
    modifiers: [{ supportedMethods: 'alipay', total: { label: 'M', amount: amount('CNY', '-2') } }],
  })
  expect(() => processDetails(negative, false)).toThrow(TypeError)
})
