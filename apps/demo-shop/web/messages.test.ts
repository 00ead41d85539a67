import { expect, it } from 'vitest'
import { describeError, messageFor, messageForReason } from './messages.js'

it('has a sentence for every code the checkout looks up by name', () => {
  for (const code of ['NETWORK', 'AbortError', 'ORDER_EXPIRED', 'ORDER_CLOSED', 'PAYMENT_NOT_SUCCESSFUL', 'TIMEOUT']) {
    expect(messageFor(code)).not.toMatch(/Something went wrong/)
  }
})

it('prefers a string code, then a DOMException name, and never shows a raw stack', () => {
  expect(describeError({ code: 'ORDER_NOT_EXIST' }).code).toBe('ORDER_NOT_EXIST')
  // DOMException has a numeric legacy `code`; its name is what matters.
  expect(describeError({ code: 20, name: 'AbortError' }).message).toMatch(/cancelled/)
  expect(describeError('boom')).toEqual({ code: 'UNKNOWN', message: 'Something went wrong (UNKNOWN).' })
  expect(describeError({ code: 'WHO_KNOWS', detail: 'disk full' }).message).toBe('Something went wrong: disk full')
})

it('has a sentence for every Alipay failure reason, read from the error the polyfill throws', async () => {
  const { ALIPAY_FAILURE_REASONS, failureMessage } = await import('@alipay-payment-handler/protocol')
  for (const reason of ALIPAY_FAILURE_REASONS) {
    const described = describeError(new DOMException(failureMessage(reason, 'x'), 'OperationError'))
    expect(described.code).toBe(reason)
    expect(described.message).not.toMatch(/Something went wrong|OperationError/)
  }
})

it('tells a developer on 127.0.0.1 that the origin is not allowed and how to fix it', () => {
  const message = messageForReason('origin-not-allowed', 'http://127.0.0.1:4100')
  expect(message).toContain('http://127.0.0.1:4100')
  expect(message).toContain('http://localhost:4100')
  expect(message).toContain('ALIPAY_ALLOWED_ORIGINS')
})
