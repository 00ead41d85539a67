import { describe, expect, test } from 'vitest'
import {
  ALIPAY_FAILURE_REASONS,
  alipayFailureReason,
  failureMessage,
  failureReasonOfCode,
  failureReasonOfOutcome,
} from './failure-reasons.js'

describe('failure reasons', () => {
  test('the handler codes and the signing server problem codes map to the same reasons', () => {
    expect(failureReasonOfCode('INVALID_METHOD_DATA')).toBe('method-data-invalid')
    expect(failureReasonOfCode('invalid-method-data')).toBe('method-data-invalid')
    expect(failureReasonOfCode('MERCHANT_NOT_ALLOWED')).toBe('origin-not-allowed')
    expect(failureReasonOfCode('origin-not-allowed')).toBe('origin-not-allowed')
    expect(failureReasonOfCode('SERVER_UNREACHABLE')).toBe('server-unreachable')
    expect(failureReasonOfCode('ORDER_EXPIRED')).toBe('session-expired')
    expect(failureReasonOfCode('UNCONFIRMED_PAYMENT')).toBe('payment-unconfirmed')
    expect(failureReasonOfCode('WINDOW_OPEN_FAILED')).toBe('window-failed')
    expect(failureReasonOfCode('something-new')).toBe('internal')
    expect(failureReasonOfCode(undefined)).toBe('internal')
  })

  test('outcomes without a payment have a reason, a payment has none', () => {
    expect(failureReasonOfOutcome({ kind: 'cancelled', reason: 'buyer' })).toBe('cancelled')
    expect(failureReasonOfOutcome({ kind: 'cancelled', reason: 'closed' })).toBe('window-closed')
    expect(failureReasonOfOutcome({ kind: 'cancelled', reason: 'expired' })).toBe('session-expired')
    expect(failureReasonOfOutcome({ kind: 'failed', code: 'AMOUNT_MISMATCH', message: '' })).toBe('amount-mismatch')
    expect(failureReasonOfOutcome({ kind: 'paid', details: { success: 'true' } as never })).toBeUndefined()
  })

  test('the reason travels in the message and is read back from it', () => {
    for (const reason of ALIPAY_FAILURE_REASONS) {
      const error = new DOMException(failureMessage(reason, 'text'), 'OperationError')
      expect(error.message).toBe(`[alipay] ${reason}: text`)
      expect(alipayFailureReason(error)).toBe(reason)
    }
    expect(alipayFailureReason(new TypeError(failureMessage('method-data-invalid', 'x')))).toBe('method-data-invalid')
  })

  test('errors of the browser itself are read by their spec name, anything else has no reason', () => {
    expect(alipayFailureReason(new DOMException('The website has aborted the payment', 'AbortError'))).toBe('cancelled')
    expect(alipayFailureReason(new DOMException('x', 'NotSupportedError'))).toBe('not-supported')
    expect(alipayFailureReason(new DOMException('[alipay] no-such-reason: x', 'OperationError'))).toBe('internal')
    expect(alipayFailureReason(new Error('plain'))).toBeUndefined()
    expect(alipayFailureReason('text')).toBeUndefined()
    expect(alipayFailureReason(null)).toBeUndefined()
  })
})
