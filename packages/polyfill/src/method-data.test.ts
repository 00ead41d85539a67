import { expect, test } from 'vitest'
import { processPaymentMethods, toMethodDataSequence } from './method-data.js'

const METHOD_URL = 'http://localhost:4200/pay'

/** A complete, well-formed PaymentMethodSpecificData (the signature is not checked here). */
export const ALIPAY_DATA = {
  service: 'mobile.securitypay.pay',
  partner: '2088101122136241',
  _input_charset: 'utf-8',
  sign_type: 'MD5',
  sign: 'a'.repeat(32),
  notify_url: 'http://localhost:4100/notify',
  out_trade_no: 'D20250101120000123456',
  subject: 'Tea',
  payment_type: '1',
  seller_id: '2088101122136241',
  total_fee: '9.99',
}

const process = (methodData: unknown) => processPaymentMethods(toMethodDataSequence(methodData), METHOD_URL)

test('an empty method list is a TypeError', () => {
  expect(() => process([])).toThrow(TypeError)
})

test('non-iterables and entries without supportedMethods are TypeErrors from the IDL conversion', () => {
  expect(() => process({})).toThrow(TypeError)
  expect(() => process('alipay')).toThrow(TypeError)
  expect(() => process([{}])).toThrow(TypeError)
  expect(() => process([{ supportedMethods: 'alipay', data: 'x' }])).toThrow(TypeError)
  expect(() => process([{ supportedMethods: Symbol('x') }])).toThrow(TypeError)
})

test('an invalid identifier is a RangeError, even after a valid one', () => {
  expect(() => process([{ supportedMethods: 'basic-card' }, { supportedMethods: 'Alipay' }])).toThrow(RangeError)
})

test('duplicates are RangeErrors, URLs compared after parsing', () => {
  expect(() => process([{ supportedMethods: 'alipay' }, { supportedMethods: 'alipay' }])).toThrow(RangeError)
  expect(() =>
    process([{ supportedMethods: 'https://a.example/pay' }, { supportedMethods: 'HTTPS://A.EXAMPLE/pay' }]),
  ).toThrow(RangeError)
})

test('data that cannot be serialized rethrows, and a cycle is a TypeError', () => {
  const cyclic: Record<string, unknown> = {}
  cyclic['self'] = cyclic
  expect(() => process([{ supportedMethods: 'basic-card', data: cyclic }])).toThrow(TypeError)
  expect(() => process([{ supportedMethods: 'basic-card', data: { n: 1n } }])).toThrow(TypeError)
})

test('Alipay data missing a required member is a TypeError naming the member', () => {
  const { sign: _sign, ...unsigned } = ALIPAY_DATA
  expect(() => process([{ supportedMethods: 'alipay', data: unsigned }])).toThrow(/"sign"/)
  expect(() => process([{ supportedMethods: 'alipay', data: unsigned }])).toThrow(TypeError)
  expect(() => process([{ supportedMethods: METHOD_URL, data: { partner: '1' } }])).toThrow(TypeError)
})

test('other methods keep any data; Alipay without data passes the constructor', () => {
  expect(process([{ supportedMethods: 'basic-card', data: { anything: 1 } }, { supportedMethods: 'alipay' }])).toEqual([
    ['basic-card', '{"anything":1}'],
    ['alipay', null],
  ])
})

test('valid Alipay data is kept as JSON', () => {
  expect(process([{ supportedMethods: 'alipay', data: ALIPAY_DATA }])).toEqual([
    ['alipay', JSON.stringify(ALIPAY_DATA)],
  ])
})
