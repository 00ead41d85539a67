import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  buildOpenapiAppOrderString,
  buildSecuritypayOrderString,
  isSecuritypayOrderString,
  parseSecuritypayOrderString,
  securitypayString,
  verifyOpenapiAppOrderString,
  verifySecuritypayOrderString,
} from './app-order-string.js'
import { decodeForm } from './form.js'
import { verifyString } from './sign.js'

const [rsa] = (
  JSON.parse(readFileSync(new URL('../../../tests/vectors/rsa.json', import.meta.url), 'utf8')) as {
    vectors: { private_key_pem: string; public_key_pem: string }[]
  }
).vectors
const keys = { privateKey: rsa!.private_key_pem, publicKey: rsa!.public_key_pem }

const order = {
  partner: '2088101568358171',
  seller_id: '2088101568358171',
  out_trade_no: 'APP0001',
  subject: '测试 order',
  body: 'a & b',
  total_fee: '0.01',
  notify_url: 'http://notify.example/alipay?x=1',
  service: 'mobile.securitypay.pay',
  payment_type: '1',
  _input_charset: 'utf-8',
}

describe('mobile.securitypay.pay order strings (mapi-protocol §4.8)', () => {
  test('keeps insertion order, quotes raw values, appends the URL-encoded sign and sign_type', async () => {
    const text = await buildSecuritypayOrderString(order, keys.privateKey)
    const unsigned = securitypayString(order)
    expect(unsigned.startsWith('partner="2088101568358171"&seller_id="2088101568358171"&out_trade_no="APP0001"')).toBe(
      true,
    )
    expect(unsigned).toContain('body="a & b"')
    expect(text.startsWith(`${unsigned}&sign="`)).toBe(true)
    expect(text.endsWith('"&sign_type="RSA"')).toBe(true)
    const sign = /&sign="([^"]*)"/.exec(text)![1]!
    expect(sign).not.toMatch(/[+/=]/)
    // The signature is SHA1withRSA over the quoted, unsorted string.
    expect(await verifyString(unsigned, decodeURIComponent(sign), 'RSA', { publicKey: keys.publicKey })).toMatchObject({
      ok: true,
    })
    expect(isSecuritypayOrderString(text)).toBe(true)
  })

  test('parses and verifies its own output; any change to a value breaks it', async () => {
    const text = await buildSecuritypayOrderString(order, keys.privateKey)
    const parsed = parseSecuritypayOrderString(text)!
    expect(Object.keys(parsed.params)).toEqual(Object.keys(order))
    expect(parsed.params).toEqual(order)
    expect(await verifySecuritypayOrderString(text, keys.publicKey)).toEqual({ ok: true, params: order })
    const tampered = text.replace('total_fee="0.01"', 'total_fee="0.02"')
    expect(await verifySecuritypayOrderString(tampered, keys.publicKey)).toMatchObject({ ok: false })
    // Reordering the pairs changes the signed text: refused although every pair is intact.
    const [first, second, ...rest] = text.split('&')
    expect(await verifySecuritypayOrderString([second, first, ...rest].join('&'), keys.publicKey)).toMatchObject({
      ok: false,
    })
  })

  test('refuses other sign types, missing quotes and values with quotes', async () => {
    const text = await buildSecuritypayOrderString(order, keys.privateKey)
    expect(
      await verifySecuritypayOrderString(text.replace('sign_type="RSA"', 'sign_type="RSA2"'), keys.publicKey),
    ).toEqual(expect.objectContaining({ ok: false, reason: 'sign-type-mismatch' }))
    expect(parseSecuritypayOrderString('partner=2088&sign="x"')).toBeUndefined()
    expect(parseSecuritypayOrderString('partner="2088"')).toBeUndefined()
    await expect(buildSecuritypayOrderString({ subject: 'a"b' }, keys.privateKey)).rejects.toMatchObject({
      code: 'FIELD_FORMAT',
    })
    await expect(buildSecuritypayOrderString({ ...order, sign_type: 'RSA' }, keys.privateKey)).rejects.toThrow()
  })
})

describe('alipay.trade.app.pay order strings (openapi-protocol §14.3)', () => {
  test('a form-encoded, request-rule signed set that verifies and decodes back', async () => {
    const params = {
      app_id: '2021000000000001',
      method: 'alipay.trade.app.pay',
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: '2026-12-05 10:00:00',
      version: '1.0',
      notify_url: 'http://notify.example/n',
      biz_content: JSON.stringify({ out_trade_no: 'A1', total_amount: '0.01', subject: '商品' }),
    }
    const text = await buildOpenapiAppOrderString(params, keys.privateKey)
    expect(isSecuritypayOrderString(text)).toBe(false)
    const decoded = decodeForm(text)
    expect(decoded).toMatchObject(params)
    const { verified } = await verifyOpenapiAppOrderString(text, keys.publicKey)
    expect(verified.ok).toBe(true)
    const { verified: bad } = await verifyOpenapiAppOrderString(text.replace('0.01', '0.02'), keys.publicKey)
    expect(bad.ok).toBe(false)
  })
})
