import { expect, test } from 'vitest'
import { mapDetails, mapMethodData, presentAsAlipay } from './native.js'

const METHOD_URL = 'http://localhost:4200/pay'

test('"alipay" becomes the URL identifier and other methods pass through untouched', () => {
  const card = { supportedMethods: 'https://card.example/pay', data: { a: 1 } }
  const mapped = mapMethodData([{ supportedMethods: 'alipay', data: { x: 1 } }, card], METHOD_URL)
  expect(mapped).toEqual([{ supportedMethods: METHOD_URL, data: { x: 1 } }, card])
  expect(mapped[1]).toBe(card)
})

test('listing "alipay" and the URL gives one entry, the "alipay" one', () => {
  const mapped = mapMethodData(
    [
      { supportedMethods: METHOD_URL, data: { url: 1 } },
      { supportedMethods: 'alipay', data: { alipay: 1 } },
    ],
    METHOD_URL,
  )
  expect(mapped).toEqual([{ supportedMethods: METHOD_URL, data: { alipay: 1 } }])
})

test('the URL alone is left as it is', () => {
  expect(mapMethodData([{ supportedMethods: METHOD_URL }], METHOD_URL)).toEqual([{ supportedMethods: METHOD_URL }])
})

test('modifiers for "alipay" are mapped, details without modifiers are the same object', () => {
  const details = { total: { label: 'T', amount: { currency: 'CNY', value: '1' } } }
  expect(mapDetails(details, METHOD_URL)).toBe(details)
  const withModifiers = { ...details, modifiers: [{ supportedMethods: 'alipay' }, { supportedMethods: 'basic-card' }] }
  expect(mapDetails(withModifiers, METHOD_URL)).toEqual({
    ...details,
    modifiers: [{ supportedMethods: METHOD_URL }, { supportedMethods: 'basic-card' }],
  })
})

test('a response from our URL reads "alipay" in methodName, toJSON() and JSON.stringify()', () => {
  class NativeLike {
    get methodName() {
      return METHOD_URL
    }
    toJSON() {
      return { requestId: 'r1', methodName: this.methodName, details: { ok: true } }
    }
  }
  const response = presentAsAlipay(new NativeLike(), METHOD_URL)
  expect(response.methodName).toBe('alipay')
  expect(response.toJSON()).toEqual({ requestId: 'r1', methodName: 'alipay', details: { ok: true } })
  expect(JSON.parse(JSON.stringify(response))).toEqual({ requestId: 'r1', methodName: 'alipay', details: { ok: true } })
})

test('a response from another method is not renamed', () => {
  const other = { methodName: 'https://card.example/pay' }
  expect(presentAsAlipay(other, METHOD_URL).methodName).toBe('https://card.example/pay')
})
