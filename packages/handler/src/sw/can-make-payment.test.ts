import { describe, expect, test } from 'vitest'
import { canMakePayment } from './can-make-payment.js'
import { METHOD, methodData } from './fakes.js'

describe('canMakePayment', () => {
  test('says yes when Chromium delivers no method data, as 156 does', () => {
    expect(canMakePayment({}, METHOD)).toBe(true)
  })

  test('says yes for valid data under our identifier', () => {
    expect(canMakePayment({ methodData: [{ supportedMethods: METHOD, data: methodData() }] }, METHOD)).toBe(true)
  })

  test('says no when every entry for our identifier is invalid', () => {
    const data = methodData({ partner: 'not-a-partner' })
    expect(canMakePayment({ methodData: [{ supportedMethods: METHOD, data }] }, METHOD)).toBe(false)
  })

  test('says no when the data is for another method only', () => {
    expect(
      canMakePayment({ methodData: [{ supportedMethods: 'https://other.example/pay', data: methodData() }] }, METHOD),
    ).toBe(false)
  })

  test('says yes when one of several entries for our identifier is valid', () => {
    const entries = [
      { supportedMethods: METHOD, data: { partner: '1' } },
      { supportedMethods: METHOD, data: methodData() },
    ]
    expect(canMakePayment({ methodData: entries }, METHOD)).toBe(true)
  })
})
