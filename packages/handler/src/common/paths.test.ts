import { describe, expect, test } from 'vitest'
import { checkoutUrl, methodUrl, normalizeOrigin, sessionIdFromReturnPath } from './paths.js'

describe('paths', () => {
  test('derives the identifier and the checkout URL from the origin alone', () => {
    expect(methodUrl('http://localhost:4200')).toBe('http://localhost:4200/pay')
    expect(methodUrl('https://pay.example.com/')).toBe('https://pay.example.com/pay')
    expect(checkoutUrl('http://localhost:4200', 'id&x')).toBe('http://localhost:4200/pay/checkout.html?prid=id%26x')
  })

  test('turns Chromium\'s "origin/" into an origin and refuses non-web schemes', () => {
    expect(normalizeOrigin('http://localhost:4100/')).toBe('http://localhost:4100')
    expect(normalizeOrigin('javascript:alert(1)')).toBeUndefined()
    expect(normalizeOrigin('not a url')).toBeUndefined()
    expect(normalizeOrigin(undefined)).toBeUndefined()
  })

  test('reads the session id from a return path', () => {
    expect(sessionIdFromReturnPath('/pay/return/s_1-A')).toBe('s_1-A')
    expect(sessionIdFromReturnPath('/pay/return/')).toBeUndefined()
    expect(sessionIdFromReturnPath('/pay/return/a%2F..')).toBeUndefined()
    expect(sessionIdFromReturnPath('/pay/checkout.html')).toBeUndefined()
  })
})
