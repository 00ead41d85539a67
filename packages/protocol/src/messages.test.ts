import { describe, expect, test } from 'vitest'
import { cancelledDetails, isCancelledDetails } from './messages.js'

describe('cancelled details', () => {
  test('builds the shape the polyfill turns into AbortError', () => {
    expect(cancelledDetails('buyer')).toEqual({
      success: 'false',
      cancelled: 'true',
      reason: 'buyer',
      failure: 'cancelled',
    })
    expect(cancelledDetails('failed', { code: 'INVALID_METHOD_DATA', message: 'm' })).toEqual({
      success: 'false',
      cancelled: 'true',
      reason: 'failed',
      code: 'INVALID_METHOD_DATA',
      message: 'm',
      failure: 'method-data-invalid',
    })
  })

  test('recognises cancellations and nothing else', () => {
    for (const reason of ['buyer', 'expired', 'closed', 'aborted', 'failed'] as const) {
      expect(isCancelledDetails(cancelledDetails(reason))).toBe(true)
    }
    expect(isCancelledDetails({ success: 'true', trade_status: 'TRADE_SUCCESS' })).toBe(false)
    expect(isCancelledDetails({ success: 'true', cancelled: 'true', reason: 'buyer' })).toBe(false)
    expect(isCancelledDetails({ success: 'false', cancelled: 'true', reason: 'whatever' })).toBe(false)
    expect(isCancelledDetails(null)).toBe(false)
  })
})
