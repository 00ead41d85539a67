import { describe, expect, test } from 'vitest'
import { codeForProblem, formatAmount, problemCopy } from './copy.js'
import { detectMode } from './mode.js'

const page = 'http://localhost:4200/pay/checkout.html'

describe('detectMode', () => {
  test('a window without opener and with a request id talks to the worker', () => {
    expect(detectMode(`${page}?prid=abc`, false)).toEqual({ kind: 'worker', paymentRequestId: 'abc' })
  })

  test('a popup with an exact merchant origin talks to its opener', () => {
    expect(detectMode(`${page}?mode=popup&origin=http%3A%2F%2Flocalhost%3A4100`, true)).toEqual({
      kind: 'popup',
      merchantOrigin: 'http://localhost:4100',
    })
  })

  test.each([
    ['popup without opener', `${page}?mode=popup&origin=http://localhost:4100`, false],
    ['popup with a path instead of an origin', `${page}?mode=popup&origin=http://localhost:4100/shop`, true],
    ['popup with a wildcard origin', `${page}?mode=popup&origin=*`, true],
    ['popup with a javascript: origin', `${page}?mode=popup&origin=javascript:alert(1)`, true],
    ['worker window without request id', page, false],
    ['an opener without mode=popup', `${page}?prid=abc`, true],
  ])('refuses %s', (_title, href, hasOpener) => {
    expect(detectMode(href, hasOpener).kind).toBe('invalid')
  })
})

describe('shopper copy', () => {
  test('maps the signing server problems to words a shopper understands', () => {
    expect(codeForProblem('order-expired')).toBe('ORDER_EXPIRED')
    expect(codeForProblem('origin-not-allowed')).toBe('MERCHANT_NOT_ALLOWED')
    expect(codeForProblem('amount-mismatch')).toBe('AMOUNT_MISMATCH')
    expect(codeForProblem('invalid-signature')).toBe('INVALID_METHOD_DATA')
    expect(codeForProblem('something-new')).toBe('SESSION_REJECTED')
    expect(codeForProblem(undefined)).toBe('SESSION_REJECTED')
  })

  test('never shows a diagnostic and says whether retrying helps', () => {
    expect(problemCopy('SERVER_UNREACHABLE').canRetry).toBe(true)
    expect(problemCopy('INVALID_METHOD_DATA').canRetry).toBe(false)
    expect(problemCopy('NO_SUCH_CODE')).toEqual(problemCopy('INTERNAL'))
    expect(problemCopy('amount-mismatch')).toEqual(problemCopy('AMOUNT_MISMATCH'))
    for (const code of ['INVALID_METHOD_DATA', 'SERVER_UNREACHABLE', 'ORDER_EXPIRED', 'UNCONFIRMED_PAYMENT']) {
      expect(problemCopy(code).message).not.toMatch(/alipay-handler|undefined|Error/)
    }
  })

  test('formats the signed amount string without touching its digits', () => {
    expect(formatAmount('CNY', '0.10')).toBe('¥0.10')
    expect(formatAmount('usd', '12.5')).toBe('12.5 USD')
  })
})
