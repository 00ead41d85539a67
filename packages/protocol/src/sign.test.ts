import { createHash, createSign, generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { loadMapiVectors } from '../../../tests/support/vectors.js'
import { md5Sign, signParams, signString, verifyParams, verifyString } from './sign.js'
import { stringToSign } from './string-to-sign.js'

const DEMO_KEY = '0123456789abcdefghijklmnopqrstuv'
const rsaVector = loadMapiVectors('rsa')[0]!
const RSA_KEYS = { privateKey: rsaVector.private_key_pem!, publicKey: rsaVector.public_key_pem! }

/** Changes one character of a string to another printable character. */
function mutate(text: string, index: number): string {
  const i = index % text.length
  const c = text[i] === 'a' ? 'b' : 'a'
  return text.slice(0, i) + c + text.slice(i + 1)
}

describe('shared signing vectors', () => {
  for (const file of ['md5', 'rsa', 'rsa2'] as const) {
    for (const v of loadMapiVectors(file)) {
      test(`${file}: ${v.name} builds the string, signs and verifies`, async () => {
        expect(stringToSign(v.params)).toBe(v.string_to_sign)
        const keys = { md5Key: v.key, privateKey: v.private_key_pem, publicKey: v.public_key_pem }
        expect(await signString(v.string_to_sign, v.sign_type, keys, v.charset)).toBe(v.sign)
        const received = { sign_type: v.sign_type, ...v.params, sign: v.sign }
        expect(await verifyParams(received, { keys })).toMatchObject({ ok: true })
        const key = Object.keys(v.params).find((k) => k !== 'sign_type' && v.params[k] !== '')!
        const tampered = { ...received, [key]: mutate(v.params[key]!, 0) }
        expect(await verifyParams(tampered, { keys })).toMatchObject({ ok: false, reason: 'signature-mismatch' })
        const badSign = v.sign_type === 'MD5' ? mutate(v.sign, 3) : mutate(v.sign, 10)
        expect((await verifyParams({ ...received, sign: badSign }, { keys })).ok).toBe(false)
      })
    }
  }
})

describe('the worked example of mapi-protocol §4.2', () => {
  const params = {
    service: 'create_direct_pay_by_user',
    partner: '2088101122136241',
    _input_charset: 'utf-8',
    seller_id: '2088101122136241',
    payment_type: '1',
    out_trade_no: '20240501-0001',
    subject: '测试商品',
    total_fee: '0.01',
    body: '',
    notify_url: 'https://shop.example.com/alipay/notify',
    return_url: 'https://shop.example.com/alipay/return',
    it_b_pay: '30m',
    sign_type: 'MD5',
  }

  test('signs with MD5, RSA and RSA2 exactly as documented', async () => {
    const keys = { md5Key: DEMO_KEY, ...RSA_KEYS }
    expect((await signParams(params, { signType: 'MD5', keys }))['sign']).toBe('0a9f09ce98072daa5f1c809feab65c28')
    expect((await signParams(params, { signType: 'RSA', keys }))['sign']).toBe(
      'OBgyk7Pj1Icehmm583kwRGXw6YqKfxEMvO6Qix8omOzbSeAEHg0SYRbM2Ip55uzVj+lv1z5WH2jfJTr5qZGVmVadp7l5FLrKpjhCd9Y72//gndFpsiMaX7OTLBqr8hsM6xBN+hVAMgWaAg1ytr59XdvaDnN78sS3stV9cVcLI1A=',
    )
    expect((await signParams(params, { signType: 'RSA2', keys }))['sign']).toBe(
      'Sm1QYiMpIF4arfaykXvwrC/8WjCdn7MFdhNY1qJ+1mEuT+gaDareCT8JijPb/gqnmVTdNFPuZHyTNiqLEuhtPW9t9nd2b+dlQQJ0X30xZ6PpmBS1Er2UBzg2y4m8sHxRtxxcDJtKKYaWshBRtIypIu4Z6ivqZbNj2/FR+dliES8=',
    )
  })

  test('signs over GBK bytes when _input_charset is gbk', async () => {
    const gbk = { ...params, _input_charset: 'gbk' }
    const signed = await signParams(gbk, { signType: 'MD5', keys: { md5Key: DEMO_KEY } })
    expect(signed['sign']).toBe('b9d81a60d56ebd04215002a4252ebc2f')
    expect(await verifyParams(signed, { keys: { md5Key: DEMO_KEY } })).toMatchObject({ ok: true })
    // The same parameters verified as UTF-8 bytes must fail: the charset is part of the signature.
    expect(await verifyParams(signed, { keys: { md5Key: DEMO_KEY }, charset: 'utf-8' })).toMatchObject({ ok: false })
  })

  test('verifies the documented return with its double-encoded notify_id (mapi-protocol §5.3)', async () => {
    const query =
      'is_success=T&exterface=create_direct_pay_by_user&notify_id=RqPnCoPT3K9%252Fvwbh3InXmPq1Zk8Wd0LrT%252BaYc5vN2uQeHjS4tKgFbE7oMwCzVx&notify_time=2024-05-01%2012%3A00%3A05&notify_type=trade_status_sync&out_trade_no=20240501-0001&payment_type=1&seller_id=2088101122136241&buyer_id=2088102122524333&buyer_email=buyer%40example.com&subject=%E6%B5%8B%E8%AF%95%E5%95%86%E5%93%81&total_fee=0.01&trade_no=2024050121001004330200123456&trade_status=TRADE_SUCCESS&sign_type=MD5&sign=8222a43361b5604d6c6c62740531f86e'
    const params = Object.fromEntries(new URLSearchParams(query))
    expect(params['notify_id']).toContain('%2F')
    expect(await verifyParams(params, { keys: { md5Key: DEMO_KEY } })).toMatchObject({ ok: true })
    const decodedTwice = { ...params, notify_id: decodeURIComponent(params['notify_id']!) }
    expect(await verifyParams(decodedTwice, { keys: { md5Key: DEMO_KEY } })).toMatchObject({ ok: false })
  })

  test('verifies the documented notify, query, close and refund signatures', () => {
    const notify = {
      notify_time: '2024-05-01 12:00:06',
      notify_type: 'trade_status_sync',
      notify_id: 'a9f3c1e07b5d4a28e6c0f1b2d3e4a5b6c7',
      out_trade_no: '20240501-0001',
      subject: '测试商品',
      payment_type: '1',
      trade_no: '2024050121001004330200123456',
      trade_status: 'TRADE_SUCCESS',
      gmt_create: '2024-05-01 11:59:40',
      gmt_payment: '2024-05-01 12:00:04',
      seller_email: 'seller@example.com',
      buyer_email: 'buyer@example.com',
      seller_id: '2088101122136241',
      buyer_id: '2088102122524333',
      price: '0.01',
      total_fee: '0.01',
      quantity: '1',
      discount: '0.00',
      is_total_fee_adjust: 'N',
      use_coupon: 'N',
    }
    expect(md5Sign(stringToSign(notify), DEMO_KEY)).toBe('ab253c723ac973f63756e9fdcd8fc00d')
    expect(
      md5Sign(
        '_input_charset=utf-8&out_trade_no=20240501-0001&partner=2088101122136241&service=single_trade_query',
        DEMO_KEY,
      ),
    ).toBe('f3f8f4c356e95ec3d6ff2369dceafdae')
    expect(
      md5Sign(
        '_input_charset=utf-8&partner=2088101122136241&service=close_trade&trade_no=2024050121001004330200123457',
        DEMO_KEY,
      ),
    ).toBe('da54708765ef5bf48d1e264bdc8b3d42')
    expect(
      md5Sign(
        '_input_charset=utf-8&batch_no=20240502001&batch_num=1&detail_data=2024050121001004330200123456^0.01^协商退款&notify_url=https://shop.example.com/alipay/refund-notify&partner=2088101122136241&refund_date=2024-05-02 09:30:00&seller_user_id=2088101122136241&service=refund_fastpay_by_platform_nopwd',
        DEMO_KEY,
      ),
    ).toBe('df5cc3ae862c9dcd651754b35559af19')
  })
})

describe('verifier rejects the known library deviations (mapi-protocol §4.9)', () => {
  const params = { service: 'x', partner: '2088101122136241', body: '', sign_type: 'MD5' }
  const good = md5Sign('partner=2088101122136241&service=x', DEMO_KEY)

  test('keeping empty values in the string', async () => {
    const withEmpty = md5Sign('body=&partner=2088101122136241&service=x', DEMO_KEY)
    expect((await verifyParams({ ...params, sign: withEmpty }, { keys: { md5Key: DEMO_KEY } })).ok).toBe(false)
    expect((await verifyParams({ ...params, sign: good }, { keys: { md5Key: DEMO_KEY } })).ok).toBe(true)
  })

  test('including sign_type in the string', async () => {
    const withType = md5Sign('partner=2088101122136241&service=x&sign_type=MD5', DEMO_KEY)
    expect((await verifyParams({ ...params, sign: withType }, { keys: { md5Key: DEMO_KEY } })).ok).toBe(false)
  })

  test('URL-encoding values before joining', async () => {
    const p = { service: 'x', notify_url: 'https://a.example/n', sign_type: 'MD5' }
    const encoded = md5Sign(`notify_url=${encodeURIComponent('https://a.example/n')}&service=x`, DEMO_KEY)
    expect((await verifyParams({ ...p, sign: encoded }, { keys: { md5Key: DEMO_KEY } })).ok).toBe(false)
  })

  test('MD5 comparison accepts upper-case hex from the gateway', async () => {
    expect((await verifyParams({ ...params, sign: good.toUpperCase() }, { keys: { md5Key: DEMO_KEY } })).ok).toBe(true)
  })
})

describe('malformed signatures give a reason, never a crash', () => {
  const params = { service: 'x', partner: '2088101122136241', sign_type: 'RSA2' }

  test.each([
    ['not base64', '!!!', 'malformed-signature'],
    ['a + decoded as a space', 'abc def==', 'malformed-signature'],
    ['wrong length for the key', Buffer.alloc(64).toString('base64'), 'malformed-signature'],
    ['empty', '', 'missing-sign'],
  ])('%s', async (_name, sign, reason) => {
    expect(await verifyParams({ ...params, sign }, { keys: RSA_KEYS })).toMatchObject({ ok: false, reason })
  })

  test('a missing key, an unknown sign type and a broken public key', async () => {
    expect(await verifyParams({ ...params, sign: 'AAAA' }, { keys: {} })).toMatchObject({ ok: false, reason: 'no-key' })
    expect(await verifyParams({ ...params, sign_type: 'DSA', sign: 'AAAA' }, { keys: RSA_KEYS })).toMatchObject({
      ok: false,
      reason: 'unsupported-sign-type',
    })
    expect(await verifyParams({ ...params, sign: 'AAAA' }, { keys: { publicKey: 'not a key' } })).toMatchObject({
      ok: false,
      reason: 'bad-key',
    })
    expect(await verifyParams({ ...params, sign: 'AAAA' }, { keys: { publicKey: RSA_KEYS.privateKey } })).toMatchObject(
      {
        ok: false,
        reason: 'bad-key',
      },
    )
  })

  test('an expected sign type that differs from the message fails', async () => {
    const signed = await signParams({ service: 'x' }, { signType: 'RSA', keys: RSA_KEYS })
    expect(await verifyParams(signed, { keys: RSA_KEYS, signType: 'RSA2' })).toMatchObject({
      ok: false,
      reason: 'sign-type-mismatch',
    })
  })
})

describe('cross-check with node:crypto', () => {
  test('MD5 equals createHash over the same bytes', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (text, key) => {
        expect(md5Sign(text, key)).toBe(
          createHash('md5')
            .update(text + key, 'utf8')
            .digest('hex'),
        )
      }),
    )
  })

  test('RSA2 with a fresh 2048-bit PKCS#1 key equals createSign', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const text = 'a=1&b=测试'
    const ours = await signString(text, 'RSA2', { privateKey: pkcs1 })
    expect(ours).toBe(createSign('RSA-SHA256').update(text).sign(privateKey, 'base64'))
    expect(await verifyString(text, ours, 'RSA2', { publicKey: spki })).toMatchObject({ ok: true })
  })
})

describe('properties', () => {
  const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/).filter((k) => k !== 'sign' && k !== 'sign_type')
  const paramSet = fc.dictionary(key, fc.string({ minLength: 1, maxLength: 40 }), { minKeys: 1, maxKeys: 12 })

  test('sign then verify round-trips for any parameter set and type', async () => {
    await fc.assert(
      fc.asyncProperty(
        paramSet,
        fc.constantFrom('MD5', 'RSA', 'RSA2') as fc.Arbitrary<'MD5' | 'RSA' | 'RSA2'>,
        async (params, signType) => {
          const keys = { md5Key: DEMO_KEY, ...RSA_KEYS }
          const signed = await signParams(params, { signType, keys })
          expect((await verifyParams(signed, { keys })).ok).toBe(true)
        },
      ),
      { numRuns: 60 },
    )
  })

  test('changing any one character of any signed value fails verification', async () => {
    await fc.assert(
      fc.asyncProperty(paramSet, fc.nat(), fc.nat(), async (params, which, where) => {
        const signed = await signParams(params, { signType: 'MD5', keys: { md5Key: DEMO_KEY } })
        const keys = Object.keys(params)
        const field = keys[which % keys.length]!
        const value = signed[field]!
        const tampered = { ...signed, [field]: mutate(value, where) }
        expect((await verifyParams(tampered, { keys: { md5Key: DEMO_KEY } })).ok).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  test('parameter order on the wire never changes the string to sign', () => {
    fc.assert(
      fc.property(paramSet, (params) => {
        const reversed = Object.fromEntries(Object.entries(params).reverse())
        expect(stringToSign(reversed)).toBe(stringToSign(params))
      }),
    )
  })
})
