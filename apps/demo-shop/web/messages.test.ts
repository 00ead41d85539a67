import { expect, it } from 'vitest'
import { describeError, messageFor } from './messages.js'

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
