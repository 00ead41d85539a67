import { describe, expect, test } from 'vitest'
import { parseOpenerMessage, parseWindowMessage } from './messages.js'
import { generateOrderId, orderIdTime, ORDER_ID_PATTERN } from './order-id.js'
import { buildPaymentResponse, verifyPaymentResponse } from './response.js'
import { OUT_TRADE_NO, isNotifyUrl, itBPayDeadline, parseItBPay } from './rules.js'
import { md5Sign } from './sign.js'
import { stringToSign } from './string-to-sign.js'
import { formatBeijingTime, parseBeijingTime } from './time.js'

const KEY = '0123456789abcdefghijklmnopqrstuv'

describe('time and order ids', () => {
  test('formats and parses Beijing time', () => {
    const instant = new Date(Date.UTC(2024, 11, 20, 8, 16, 15))
    expect(formatBeijingTime(instant)).toBe('2024-12-20 16:16:15')
    expect(parseBeijingTime('2024-12-20 16:16:15')?.getTime()).toBe(instant.getTime())
    expect(parseBeijingTime('2024-02-30 00:00:00')).toBeUndefined()
    expect(parseBeijingTime('2024-12-20T16:16:15')).toBeUndefined()
  })

  test('order ids are D + Beijing yyyyMMddHHmmss + 18 random digits, within out_trade_no', () => {
    const id = generateOrderId(new Date(Date.UTC(2024, 11, 20, 8, 16, 15)))
    expect(id).toMatch(/^D20241220161615\d{18}$/)
    expect(ORDER_ID_PATTERN.test(id)).toBe(true)
    expect(OUT_TRADE_NO.test(id)).toBe(true)
    expect(id.length).toBeLessThanOrEqual(64)
    expect(orderIdTime(id)?.toISOString()).toBe('2024-12-20T08:16:15.000Z')
    expect(orderIdTime('CUSTOM_ORDER_001')).toBeUndefined()
  })

  test('many order ids made in the same millisecond are all different', () => {
    // One instant for all of them: only the random part can tell them apart.
    const instant = new Date(Date.UTC(2024, 11, 20, 8, 16, 15, 123))
    const ids = Array.from({ length: 100_000 }, () => generateOrderId(instant))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.every((id) => ORDER_ID_PATTERN.test(id))).toBe(true)
  })
})

describe('it_b_pay', () => {
  const created = new Date(Date.UTC(2024, 4, 1, 4, 0, 0)) // 12:00 Beijing
  test('relative forms become deadlines', () => {
    expect(itBPayDeadline(parseItBPay('30m')!, created).getTime() - created.getTime()).toBe(30 * 60_000)
    expect(itBPayDeadline(parseItBPay('2h')!, created).getTime() - created.getTime()).toBe(2 * 3600_000)
    expect(itBPayDeadline(parseItBPay('1d')!, created).getTime() - created.getTime()).toBe(86_400_000)
  })
  test('1c ends at the next Beijing midnight', () => {
    expect(formatBeijingTime(itBPayDeadline(parseItBPay('1c')!, created))).toBe('2024-05-02 00:00:00')
  })
  test('absolute times only where allowed', () => {
    expect(parseItBPay('2024-05-01 13:00:00')).toBeUndefined()
    expect(parseItBPay('2024-05-01 13:00:00', { allowAbsolute: true })).toMatchObject({ kind: 'absolute' })
  })
  test('notify URLs must be absolute http(s) without a query', () => {
    expect(isNotifyUrl('https://a.example/n')).toBe(true)
    expect(isNotifyUrl('https://a.example/n?')).toBe(false)
    expect(isNotifyUrl('https://a.example/n#x')).toBe(false)
    expect(isNotifyUrl('javascript:alert(1)')).toBe(false)
  })
})

describe('AlipayPaymentResponse', () => {
  const returned = {
    is_success: 'T',
    notify_id: 'RqPnCoPT3K9%2Fvwbh3',
    notify_time: '2024-05-01 12:00:05',
    notify_type: 'trade_status_sync',
    out_trade_no: '20240501-0001',
    trade_no: '2024050121001004330200123456',
    trade_status: 'TRADE_SUCCESS',
    total_fee: '0.01',
  }
  const signed = { ...returned, sign_type: 'MD5', sign: md5Sign(stringToSign(returned), KEY) }

  test('success is "true" only for a verified, paid set', () => {
    expect(buildPaymentResponse(signed, true).success).toBe('true')
    expect(buildPaymentResponse(signed, false).success).toBe('false')
    expect(buildPaymentResponse({ ...signed, trade_status: 'WAIT_BUYER_PAY' }, true).success).toBe('false')
    expect(buildPaymentResponse({ ...signed, trade_status: 'TRADE_FINISHED' }, true).success).toBe('true')
  })

  test('keeps every gateway member verbatim, so the response still verifies', async () => {
    const details = buildPaymentResponse(signed, true)
    expect(details['is_success']).toBe('T')
    expect(await verifyPaymentResponse(details, { md5Key: KEY })).toMatchObject({ ok: true })
  })

  test('a response trimmed to the dictionary or changed in one member no longer verifies', async () => {
    const { is_success: _dropped, ...trimmed } = buildPaymentResponse(signed, true)
    expect((await verifyPaymentResponse(trimmed, { md5Key: KEY })).ok).toBe(false)
    const raised = { ...buildPaymentResponse(signed, true), total_fee: '100.00' }
    expect((await verifyPaymentResponse(raised, { md5Key: KEY })).ok).toBe(false)
  })
})

describe('checkout messages', () => {
  test('accepts our shapes and nothing else', () => {
    expect(parseWindowMessage({ type: 'CHECKOUT_READY', payload: { version: 1 } })).toBeDefined()
    expect(parseOpenerMessage({ type: 'ABORT', payload: { reason: 'merchant' } })).toBeDefined()
    for (const junk of [
      null,
      'CHECKOUT_READY',
      { type: 'CHECKOUT_READY' },
      { type: 'EVIL', payload: {} },
      { type: 'REQUEST', payload: {} },
    ]) {
      expect(parseWindowMessage(junk)).toBeUndefined()
    }
    expect(parseOpenerMessage({ type: 'CHECKOUT_DONE', payload: {} })).toBeUndefined()
  })
})
