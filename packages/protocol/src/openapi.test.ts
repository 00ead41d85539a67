import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  extractMemberText,
  openapiNotifyString,
  openapiRequestString,
  signOpenapiNotify,
  signOpenapiRequest,
  verifyOpenapiNotify,
  verifyOpenapiReply,
  verifyOpenapiRequest,
} from './openapi.js'
import { signString, verifyString } from './sign.js'
import { stringToSign } from './string-to-sign.js'

interface OpenapiVector {
  name: string
  kind: string
  params?: Record<string, string>
  string_to_sign?: string
  private_key_pem?: string
  public_key_pem: string
  sign: string
  raw_response?: string
  response_key?: string
  signed_content?: string
  expected_valid?: boolean
}
const vectors = (
  JSON.parse(readFileSync(new URL('../../../tests/vectors/openapi.json', import.meta.url), 'utf8')) as {
    vectors: OpenapiVector[]
  }
).vectors
const byKind = (kind: string) => vectors.filter((v) => v.kind === kind)

describe('openapi vectors', () => {
  for (const v of byKind('request-sign')) {
    test(`${v.name}: request string keeps sign_type, signs and verifies`, async () => {
      expect(openapiRequestString(v.params!)).toBe(v.string_to_sign)
      const signed = await signOpenapiRequest(v.params!, v.private_key_pem!)
      expect(signed['sign']).toBe(v.sign)
      expect(await verifyOpenapiRequest(signed, v.public_key_pem)).toMatchObject({ ok: true })
      // The mapi rule (sign_type left out) must not verify: that is the classic mix-up.
      expect((await verifyString(stringToSign(v.params!), v.sign, 'RSA2', { publicKey: v.public_key_pem })).ok).toBe(
        false,
      )
    })
  }

  for (const v of byKind('notify-verify')) {
    test(`${v.name}: notification ${v.expected_valid ? 'verifies' : 'is rejected'}`, async () => {
      const received = { ...v.params!, sign: v.sign }
      expect((await verifyOpenapiNotify(received, v.public_key_pem)).ok).toBe(v.expected_valid)
      if (v.expected_valid) {
        const tampered = { ...received, total_amount: '100.00' }
        expect((await verifyOpenapiNotify(tampered, v.public_key_pem)).ok).toBe(false)
      }
    })
  }

  for (const v of byKind('response-verify')) {
    test(`${v.name}: finds the exact signed text and verifies it`, async () => {
      expect(extractMemberText(v.raw_response!, v.response_key!)).toBe(v.signed_content)
      const method = v.response_key!.replace(/_response$/, '').replace(/_/g, '.')
      expect(await verifyOpenapiReply(v.raw_response!, method, { publicKey: v.public_key_pem })).toMatchObject({
        ok: true,
        signedText: v.signed_content,
      })
      const spaced = v.raw_response!.replace('"msg":"Success"', '"msg": "Success"')
      expect((await verifyOpenapiReply(spaced, method, { publicKey: v.public_key_pem })).ok).toBe(false)
    })
  }
})

describe('openapi replies as the sandbox writes them', () => {
  const pair = byKind('request-sign')[0]!
  const keys = { privateKey: pair.private_key_pem!, publicKey: pair.public_key_pem }

  async function reply(inner: string, member = 'alipay_trade_precreate_response') {
    const sign = await signString(inner, 'RSA2', keys)
    return `{"${member}":${inner},"sign":"${sign}"}`
  }

  test('\\/ escapes are part of the signed text; a re-serialised body fails', async () => {
    const inner = '{"code":"10000","msg":"Success","out_trade_no":"D1","qr_code":"https:\\/\\/qr.alipay.com\\/bax1"}'
    const body = await reply(inner)
    const result = await verifyOpenapiReply(body, 'alipay.trade.precreate', keys)
    expect(result).toMatchObject({
      ok: true,
      unescapedSlashes: false,
      response: { qr_code: 'https://qr.alipay.com/bax1' },
    })
    const reserialised = JSON.stringify(JSON.parse(body))
    const again = await verifyOpenapiReply(reserialised, 'alipay.trade.precreate', keys)
    expect(again.ok).toBe(false)
  })

  test('braces and quotes inside strings do not confuse the extractor', async () => {
    const inner = '{"code":"10000","msg":"a } \\" { b","nested":{"x":"}"}}'
    const body = `{"alipay_trade_query_response":${inner},"sign":"x"}`
    expect(extractMemberText(body, 'alipay_trade_query_response')).toBe(inner)
    expect(
      extractMemberText(`{"other":{"alipay_trade_query_response":{}}}`, 'alipay_trade_query_response'),
    ).toBeUndefined()
  })

  test('error_response without a sign is reported, never accepted', async () => {
    const body = '{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}'
    expect(await verifyOpenapiReply(body, 'alipay.trade.query', keys)).toMatchObject({
      ok: false,
      reason: 'missing-sign',
      response: { code: '40002' },
    })
  })

  test('a reply signed with another key, and junk bodies, fail', async () => {
    const body = await reply('{"code":"10000"}', 'alipay_trade_query_response')
    const other = byKind('response-verify')[0]!.public_key_pem
    expect((await verifyOpenapiReply(body, 'alipay.trade.query', { publicKey: other })).ok).toBe(false)
    expect((await verifyOpenapiReply('<html>', 'alipay.trade.query', keys)).ok).toBe(false)
    expect((await verifyOpenapiReply('{"foo":1}', 'alipay.trade.query', keys)).ok).toBe(false)
  })

  test('the extractor returns the original text of any JSON object value', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), (inner) => {
        const text = JSON.stringify(inner)
        expect(extractMemberText(`{"a":"}","m_response":${text},"sign":"s"}`, 'm_response')).toBe(text)
      }),
    )
  })

  test('notifications signed by the sandbox side verify, and keep sign_type out', async () => {
    const params = {
      notify_id: 'n1',
      out_trade_no: 'D1',
      total_amount: '1.00',
      trade_status: 'TRADE_SUCCESS',
      app_id: 'a',
    }
    const signed = await signOpenapiNotify(params, keys.privateKey)
    expect(await verifyOpenapiNotify(signed, keys.publicKey)).toMatchObject({ ok: true })
    expect(await verifyOpenapiNotify({ ...signed, sign_type: 'RSA' }, keys.publicKey)).toMatchObject({ ok: false })
  })
})

describe('openapi request strings with empty values', () => {
  const params = { app_id: '2021000122671080', method: 'alipay.trade.query', sign_type: 'RSA2', notify_url: '' }

  test('keepEmpty signs key= as the Node SDK does; the default drops it', () => {
    expect(openapiRequestString(params)).toBe('app_id=2021000122671080&method=alipay.trade.query&sign_type=RSA2')
    expect(openapiRequestString(params, { keepEmpty: true })).toBe(
      'app_id=2021000122671080&method=alipay.trade.query&notify_url=&sign_type=RSA2',
    )
  })

  test('a request signed with the empty value verifies only with keepEmpty', async () => {
    const privateKey = byKind('request-sign').find((v) => v.private_key_pem)!.private_key_pem!
    const publicKey = byKind('request-sign').find((v) => v.private_key_pem)!.public_key_pem
    const sign = await signString(openapiRequestString(params, { keepEmpty: true }), 'RSA2', { privateKey })
    const signed = { ...params, sign }
    expect((await verifyOpenapiRequest(signed, publicKey, { keepEmpty: true })).ok).toBe(true)
    expect((await verifyOpenapiRequest(signed, publicKey)).ok).toBe(false)
  })

  test('a browser return carries method but drops sign_type; an application-gateway notify keeps it', async () => {
    const pair = byKind('request-sign')[0]!
    const keys = { privateKey: pair.private_key_pem!, publicKey: pair.public_key_pem }
    const ret = { method: 'alipay.trade.page.pay.return', out_trade_no: 'D1', total_amount: '1.00', app_id: 'a' }
    const signedReturn = await signOpenapiNotify(ret, keys.privateKey)
    expect(openapiNotifyString(signedReturn)).not.toContain('sign_type')
    expect(await verifyOpenapiNotify(signedReturn, keys.publicKey)).toMatchObject({ ok: true })
    const appNotify = { method: 'alipay.open.servicemarket.order.notify', notify_id: 'n', sign_type: 'RSA2' }
    expect(openapiNotifyString(appNotify)).toContain('sign_type=RSA2')
  })
})
