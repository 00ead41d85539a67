import { describe, expect, test } from 'vitest'
import { BUYER_AUTH_CODE, barcodeQueryOutcome, classifyBarcodeReply } from './barcode.js'

describe('barcode payment replies (openapi-protocol §14.1)', () => {
  test('10000 paid, 10003 waiting, 20000 or no reply unknown, anything else failed', () => {
    expect(classifyBarcodeReply('10000')).toBe('paid')
    expect(classifyBarcodeReply('10003')).toBe('waiting')
    expect(classifyBarcodeReply('20000')).toBe('unknown')
    expect(classifyBarcodeReply(undefined)).toBe('unknown')
    expect(classifyBarcodeReply('40004')).toBe('failed')
    expect(classifyBarcodeReply('40002')).toBe('failed')
  })

  test('a query ends the polling only on a final status', () => {
    expect(barcodeQueryOutcome('TRADE_SUCCESS')).toBe('paid')
    expect(barcodeQueryOutcome('TRADE_FINISHED')).toBe('paid')
    expect(barcodeQueryOutcome('TRADE_CLOSED')).toBe('closed')
    expect(barcodeQueryOutcome('WAIT_BUYER_PAY')).toBe('pending')
    expect(barcodeQueryOutcome(undefined)).toBe('pending')
  })

  test('buyer codes: 18 digits starting 25 to 30', () => {
    expect(BUYER_AUTH_CODE.test('281000000000000001')).toBe(true)
    expect(BUYER_AUTH_CODE.test('301234567890123456')).toBe(true)
    expect(BUYER_AUTH_CODE.test('241234567890123456')).toBe(false)
    expect(BUYER_AUTH_CODE.test('28abc')).toBe(false)
  })
})
