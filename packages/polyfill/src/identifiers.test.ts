import { describe, expect, test } from 'vitest'
import { identifierKey, isAlipayIdentifier, isValidPaymentMethodIdentifier } from './identifiers.js'

const METHOD_URL = 'http://localhost:4200/pay'

describe('isValidPaymentMethodIdentifier', () => {
  test.each(['alipay', 'basic-card', 'a1', 'x-y2-z', 'https://pay.example.com/pay', 'http://localhost:4200/pay'])(
    'accepts %s',
    (pmi) => expect(isValidPaymentMethodIdentifier(pmi)).toBe(true),
  )
  test.each([
    '',
    'Alipay',
    'ali pay',
    '1alipay',
    'ali--pay',
    'ali-',
    '-ali',
    'ali-1pay',
    'http://pay.example.com/pay',
    'https://user:pass@pay.example.com/pay',
    'https://user@pay.example.com/pay',
    'ftp://pay.example.com/pay',
    'alipay:pay',
  ])('rejects %j', (pmi) => expect(isValidPaymentMethodIdentifier(pmi)).toBe(false))
})

test('identifierKey compares URLs after parsing and other identifiers as written', () => {
  expect(identifierKey('HTTPS://Pay.Example.com/pay')).toBe('https://pay.example.com/pay')
  expect(identifierKey('alipay')).toBe('alipay')
})

test('isAlipayIdentifier knows "alipay" and the app URL, in any spelling of that URL', () => {
  expect(isAlipayIdentifier('alipay', METHOD_URL)).toBe(true)
  expect(isAlipayIdentifier('http://LOCALHOST:4200/pay', METHOD_URL)).toBe(true)
  expect(isAlipayIdentifier('http://localhost:4200/pay/', METHOD_URL)).toBe(false)
  expect(isAlipayIdentifier('basic-card', METHOD_URL)).toBe(false)
})
