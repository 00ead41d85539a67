import { describe, expect, test } from 'vitest'
import { loadMapiVectors } from '../../../tests/support/vectors.js'
import { diagnoseSignature, formatDiagnosis } from './diagnose.js'
import { md5Sign, signString } from './sign.js'
import { stringToSign } from './string-to-sign.js'

const KEY = '0123456789abcdefghijklmnopqrstuv'
const rsa = loadMapiVectors('rsa')[0]!
const RSA_KEYS = { privateKey: rsa.private_key_pem!, publicKey: rsa.public_key_pem! }
const base = {
  notify_id: 'RqPn/vw+bh=',
  notify_type: 'trade_status_sync',
  out_trade_no: 'D20241220161615000001',
  subject: '测试商品',
  total_fee: '0.01',
  trade_status: 'TRADE_SUCCESS',
}

/** The hints a diagnosis of these received params gives. */
async function hintsFor(received: Record<string, string>, keys: object = { md5Key: KEY }, alsoExclude?: string[]) {
  const d = await diagnoseSignature(received, { keys, ...(alsoExclude ? { alsoExclude } : {}) })
  expect(d.verified).toBe(false)
  return d.findings.map((f) => `${f.hint}${f.field ? `:${f.field}` : ''}`)
}

describe('signature diagnosis: each broken signature gets its hint', () => {
  test('a valid message verifies with no findings and shows its string', async () => {
    const sign = md5Sign(stringToSign(base), KEY)
    const d = await diagnoseSignature({ ...base, sign_type: 'MD5', sign }, { keys: { md5Key: KEY } })
    expect(d).toMatchObject({ verified: true, findings: [], stringToSign: stringToSign(base) })
  })

  test('sign-plus-as-space', async () => {
    const sign = await signString(stringToSign(base), 'RSA', RSA_KEYS)
    expect(sign).toContain('+')
    const hints = await hintsFor({ ...base, sign_type: 'RSA', sign: sign.replace(/\+/g, ' ') }, RSA_KEYS)
    expect(hints).toContain('sign-plus-as-space:sign')
  })

  test('value-plus-as-space', async () => {
    const sign = md5Sign(stringToSign(base), KEY)
    const hints = await hintsFor({ ...base, notify_id: 'RqPn/vw bh=', sign_type: 'MD5', sign })
    expect(hints).toContain('value-plus-as-space:notify_id')
  })

  test('value-decoded-twice', async () => {
    const signed = { ...base, notify_id: 'RqPn%2Fvw' }
    const sign = md5Sign(stringToSign(signed), KEY)
    const hints = await hintsFor({ ...signed, notify_id: 'RqPn/vw', sign_type: 'MD5', sign })
    expect(hints).toContain('value-decoded-twice:notify_id')
  })

  test('sign-type-in-string', async () => {
    const sign = md5Sign(stringToSign({ ...base, sign_type: 'MD5' }, ['sign']), KEY)
    expect(await hintsFor({ ...base, sign_type: 'MD5', sign })).toContain('sign-type-in-string')
  })

  test('empty-values-signed', async () => {
    const withEmpty = { ...base, body: '' }
    const text = Object.keys(withEmpty)
      .sort()
      .map((k) => `${k}=${withEmpty[k as keyof typeof withEmpty]}`)
      .join('&')
    expect(await hintsFor({ ...withEmpty, sign_type: 'MD5', sign: md5Sign(text, KEY) })).toContain(
      'empty-values-signed',
    )
  })

  test('values-url-encoded', async () => {
    const encoded = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, encodeURIComponent(v)]))
    const sign = md5Sign(stringToSign(encoded), KEY)
    expect(await hintsFor({ ...base, sign_type: 'MD5', sign })).toContain('values-url-encoded')
  })

  test('other-charset', async () => {
    const sign = md5Sign(stringToSign(base), KEY, 'gbk')
    expect(await hintsFor({ ...base, sign_type: 'MD5', sign })).toContain('other-charset:_input_charset')
  })

  test('parameter-added', async () => {
    const sign = md5Sign(stringToSign(base), KEY)
    expect(await hintsFor({ ...base, extra: 'late', sign_type: 'MD5', sign })).toContain('parameter-added:extra')
  })

  test('success-signed: a PaymentResponse verified without leaving success out', async () => {
    const sign = md5Sign(stringToSign(base), KEY)
    expect(await hintsFor({ ...base, success: 'true', sign_type: 'MD5', sign })).toContain('success-signed:success')
  })

  test('rsa-rsa2-swapped', async () => {
    const sign = await signString(stringToSign(base), 'RSA2', RSA_KEYS)
    expect(await hintsFor({ ...base, sign_type: 'RSA', sign }, RSA_KEYS)).toContain('rsa-rsa2-swapped:sign_type')
  })

  test('md5-key-is-public-key: a sign_type downgrade', async () => {
    const sign = md5Sign(stringToSign(base), RSA_KEYS.publicKey)
    const hints = await hintsFor({ ...base, sign_type: 'MD5', sign }, { md5Key: KEY, publicKey: RSA_KEYS.publicKey })
    expect(hints).toContain('md5-key-is-public-key:sign_type')
  })

  test('a plain wrong key gets no false hint, and the output never shows key material', async () => {
    const sign = md5Sign(stringToSign(base), 'another-partners-key')
    const d = await diagnoseSignature(
      { ...base, sign_type: 'MD5', sign },
      { keys: { md5Key: KEY, publicKey: RSA_KEYS.publicKey } },
    )
    expect(d.findings).toEqual([])
    const text = formatDiagnosis(d)
    expect(text).toContain('FAILED')
    expect(text).toContain('key slot: md5-key (32 characters)')
    expect(text).not.toContain(KEY)
    expect(text).not.toContain('MIGf')
  })

  test('the RSA key slot reports the key kind', async () => {
    const d = await diagnoseSignature({ ...base, sign_type: 'RSA2', sign: 'AAAA' }, { keys: RSA_KEYS })
    expect(d.keySlot).toEqual({ slot: 'public-key', kind: 'spki-public' })
    const wrongSlot = await diagnoseSignature(
      { ...base, sign_type: 'RSA2', sign: 'AAAA' },
      { keys: { publicKey: RSA_KEYS.privateKey } },
    )
    expect(wrongSlot.keySlot).toEqual({ slot: 'public-key', kind: 'pkcs8-private' })
    expect(wrongSlot.failure?.message).toContain('a private key was given where a public key belongs')
  })
})
