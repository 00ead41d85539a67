import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeForm,
  encodeForm,
  signParams,
  stringToSign,
  verifyParams,
  type Params,
} from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import {
  call,
  createSession,
  gatewaySign,
  merchantOrder,
  notifyFor,
  paymentData,
  placeOrder,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

/**
 * Money-path rule 10 (docs/security.md): the mapi string to sign joins `key=value` with `&` and
 * no escaping, so a value holding `&` and `=` reads the same as two parameters: one signature
 * verifies both sets. That is harmless by construction when every receiver verifies the very map
 * it decoded (once) and then reads only that map. These tests re-split signed sets and send them
 * to every receiver: each is refused, or acts only on what the signature really covered.
 */
let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

const keys = { md5Key: DEMO_PARTNER.md5Key }
const md5 = (params: Params) => signParams(params, { signType: 'MD5', keys })

/**
 * Another map with the same string to sign: the string cut at every `&` that starts a new key
 * later in byte order than the previous one; any other piece stays in the previous value.
 */
function resplit(params: Params): Params {
  const out: Params = {}
  let last = ''
  for (const piece of stringToSign(params).split('&')) {
    const at = piece.indexOf('=')
    const key = at > 0 ? piece.slice(0, at) : ''
    if (key > last && !(key in out)) {
      out[key] = piece.slice(at + 1)
      last = key
    } else out[last] += `&${piece}`
  }
  return { ...out, sign: params['sign'] ?? '', sign_type: params['sign_type'] ?? '' }
}

/** POSTs a raw form body, as an attacker who writes the bytes themselves would. */
async function postRaw(url: string, body: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  })
  return { status: response.status, text: await response.text() }
}

describe('money-path rule 10: an ambiguous string to sign is harmless by construction', () => {
  it('rule: a re-split set verifies with the original signature (why receivers must read the map they verified)', async () => {
    const signed = await md5({ partner: DEMO_PARTNER.partner, subject: 'Cup&timeout_express=1m', total_fee: '39.90' })
    const split = resplit(signed)
    expect(split).toMatchObject({ subject: 'Cup', timeout_express: '1m', total_fee: '39.90' })
    expect(split).not.toEqual(signed)
    expect(stringToSign(split)).toBe(stringToSign(signed))
    expect((await verifyParams(split, { keys, signType: 'MD5' })).ok).toBe(true)
    // On the wire the two are different bytes: the genuine value travels percent-encoded.
    expect(encodeForm(signed)).toContain('subject=Cup%26timeout_express%3D1m')
    expect(decodeForm(encodeForm(signed))).toEqual(signed)
    // An unescaped `&` that repeats a key with another value does not decode at all.
    expect(() => decodeForm('subject=Cup&total_fee=0.01&total_fee=39.90')).toThrow()
  })

  it('rule: method data re-split at the payment app is refused or pays only the signed amount', async () => {
    const order = await placeOrder(stack)
    const { data } = await paymentData(stack, order.orderId)
    const { sign: _s, sign_type: _t, ...unsigned } = data
    // The merchant signed an order whose subject a buyer chose: `Cup&total_fee=0.01`.
    const signed = await md5({ ...unsigned, subject: 'Cup&total_fee=0.01' })
    // Re-split, the amount the attacker wants is followed by the real one: no valid total_fee.
    const cheaper = resplit(signed)
    expect(cheaper).toMatchObject({ subject: 'Cup', total_fee: `0.01&total_fee=${order.amount}` })
    expect((await verifyParams(cheaper, { keys, signType: 'MD5' })).ok).toBe(true)
    const refused = await createSession(stack, cheaper, { currency: 'CNY', value: '0.01' })
    expect(refused.status).toBe(400)
    expect(refused.json.type).toMatch(/invalid-method-data$/)
    expect(refused.json.field).toBe('total_fee')
    // The genuine set opens a session for the signed amount, under the subject as signed.
    const genuine = await createSession(stack, signed, { currency: 'CNY', value: order.amount })
    expect(genuine.status).toBe(201)
    expect(genuine.json).toMatchObject({ totalFee: order.amount, subject: 'Cup&total_fee=0.01' })
    // A key slipped in between (sorted between subject and total_fee) is verified and ignored.
    const slipped = resplit(await md5({ ...unsigned, subject: 'Cup&timeout_express=1m' }))
    const session = await createSession(stack, slipped, { currency: 'CNY', value: order.amount })
    expect(session.status).toBe(201)
    expect(session.json.totalFee).toBe(order.amount)
  })

  it('rule: a notify re-split at the merchant and the relay is refused or moves no money', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    await createSession(stack, data, total)
    // A gateway-signed waiting notify whose subject spells out a paid trade after it.
    const waiting = await gatewaySign(
      notifyFor(order.orderId, order.amount, {
        trade_status: 'WAIT_BUYER_PAY',
        subject: `Tea&total_fee=${order.amount}&trade_no=1&trade_status=TRADE_SUCCESS`,
      }),
    )
    const split = resplit(waiting)
    // The keys repeat, so the re-split map keeps the real status in its last value: not a paid status.
    expect((await verifyParams(split, { keys, signType: 'MD5' })).ok).toBe(true)
    expect(split['trade_status']).not.toBe('TRADE_SUCCESS')
    expect(split['trade_status']).toMatch(/^TRADE_SUCCESS&/)
    for (const url of [`${stack.merchant.url}/api/notify`, `${stack.signing.url}/notify/mapi`]) {
      await postRaw(url, encodeForm(split))
      // The same bytes with the `&` left raw: a repeated key with two values, refused by the decoder.
      const raw = Object.entries(waiting)
        .map(([k, v]) => `${k}=${k === 'subject' ? v : encodeURIComponent(v)}`)
        .join('&')
      const answer = await postRaw(url, raw)
      expect(answer.status === 400 || answer.text === 'fail').toBe(true)
    }
    expect((await merchantOrder(stack, order.orderId)).status).toBe('wait')
  })

  it('rule: a return re-split at the payment app is refused', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const session = await createSession(stack, data, total)
    const signed = await gatewaySign({
      ...notifyFor(order.orderId, order.amount),
      is_success: 'T',
      subject: `Tea&trade_status=TRADE_SUCCESS`,
      trade_status: 'WAIT_BUYER_PAY',
    })
    // Unescaped: trade_status twice with two values, so the return does not decode.
    const raw = Object.entries(signed)
      .map(([k, v]) => `${k}=${k === 'subject' ? v : encodeURIComponent(v)}`)
      .join('&')
    const answer = await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}/return`, {
      body: { query: `?${raw}` },
    })
    expect(answer.status).toBe(400)
    expect(answer.json.type).toMatch(/malformed-return$/)
    expect((await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}`)).json.status).toBe('at_cashier')
  })
})
