import fc from 'fast-check'
import iconv from 'iconv-lite'
import { describe, expect, test } from 'vitest'
import { decodeText, encodeText, normalizeCharset } from './charset.js'
import { ProtocolError } from './errors.js'
import { decodeForm, encodeForm } from './form.js'
import { parseGatewayReply, renderGatewayReply } from './xml.js'

describe('charsets', () => {
  test('GBK bytes match iconv-lite for the documented subject and for common Chinese text', () => {
    expect(Buffer.from(encodeText('测试商品', 'gbk')).toString('hex')).toBe('b2e2cad4c9ccc6b7')
    const text = '支付宝收银台：订单已支付，谢谢惠顾！￥99.99 元'
    expect(Buffer.from(encodeText(text, 'gbk'))).toEqual(iconv.encode(text, 'gbk'))
    expect(Buffer.from(encodeText(text, 'gb2312'))).toEqual(iconv.encode(text, 'gbk'))
  })

  test('every GBK character round-trips through our encoder and the runtime decoder', () => {
    const cjk = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCodePoint(c))
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            cjk,
            fc.string({ maxLength: 3 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
          ),
        ),
        (parts) => {
          const text = parts.join('')
          expect(decodeText(encodeText(text, 'gbk'), 'gbk')).toBe(text)
        },
      ),
    )
  })

  test('characters GBK cannot hold and invalid bytes are typed errors', () => {
    expect(() => encodeText('😀', 'gbk')).toThrow(expect.objectContaining({ code: 'ENCODING' }))
    expect(() => decodeText(Uint8Array.from([0xff, 0xfe]), 'utf-8')).toThrow(
      expect.objectContaining({ code: 'ENCODING' }),
    )
    expect(() => encodeText('x', 'latin1')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CHARSET' }))
  })

  test('charset names are compared case-insensitively', () => {
    expect(normalizeCharset('UTF-8')).toBe('utf-8')
    expect(normalizeCharset('GBK')).toBe('gbk')
    expect(normalizeCharset('utf8')).toBeUndefined()
  })
})

describe('form encoding', () => {
  test('encodes the documented GBK subject and a literal + as %2B', () => {
    expect(encodeForm({ subject: '测试商品' }, 'gbk')).toBe('subject=%B2%E2%CA%D4%C9%CC%C6%B7')
    expect(encodeForm({ sign: 'a+b/c=' })).toBe('sign=a%2Bb%2Fc%3D')
  })

  test('decodes exactly once: a double-encoded notify_id keeps its inner escapes', () => {
    expect(decodeForm('notify_id=RqPn%252Fvw%252B')['notify_id']).toBe('RqPn%2Fvw%2B')
  })

  test('round-trips any parameter set in utf-8', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (params) => {
        expect(decodeForm(encodeForm(params))).toEqual(params)
      }),
    )
  })

  test('escapes every utf-8 byte but the RFC 3986 unreserved ones, in upper-case hex', () => {
    // encodeURIComponent also leaves ! ' ( ) * as they are; the gateway's encoding escapes them.
    const rfc3986 = (text: string) =>
      encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, unit: 'binary' }), fc.string({ unit: 'binary' })),
        (params) => {
          const expected = Object.entries(params)
            .map(([key, value]) => `${rfc3986(key)}=${rfc3986(value)}`)
            .join('&')
          expect(encodeForm(params)).toBe(expected)
        },
      ),
    )
    expect(encodeForm({ subject: "Tea (100 g)! *'~-._", n: '' })).toBe('subject=Tea%20%28100%20g%29%21%20%2A%27~-._&n=')
    expect(encodeForm({})).toBe('')
  })

  test('agrees with URLSearchParams for utf-8 bodies', () => {
    const body = new URLSearchParams({ subject: '测试 商品', sign: 'ab+c==', empty: '' }).toString()
    expect(decodeForm(body)).toEqual(Object.fromEntries(new URLSearchParams(body)))
  })

  test('a repeated key with different values is refused; a key named __proto__ stays data', () => {
    expect(() => decodeForm('a=1&a=2')).toThrow(ProtocolError)
    expect(decodeForm('a=1&a=1')).toEqual({ a: '1' })
    const parsed = decodeForm('__proto__=x&b=1')
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(Object.keys(parsed)).toEqual(['__proto__', 'b'])
  })

  test('invalid GBK bytes in a body are an ENCODING error', () => {
    expect(() => decodeForm('subject=%81', 'gbk')).toThrow(expect.objectContaining({ code: 'ENCODING' }))
  })

  test('a failed decode leaves nothing behind for the next one', () => {
    expect(() => decodeForm('subject=%B2', 'gbk')).toThrow(expect.objectContaining({ code: 'ENCODING' }))
    expect(decodeForm('subject=%B2%E2%CA%D4', 'gbk')).toEqual({ subject: '测试' })
    expect(() => decodeForm('subject=%E6%B5', 'utf-8')).toThrow(expect.objectContaining({ code: 'ENCODING' }))
    expect(decodeForm('subject=%E6%B5%8B')).toEqual({ subject: '测' })
  })

  test('plain ASCII is still refused in a charset the gateway does not know', () => {
    expect(() => decodeForm('a=b', 'latin1')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CHARSET' }))
    expect(() => encodeForm({ a: 'b' }, 'latin1')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CHARSET' }))
  })

  test('stray percent signs, raw non-ASCII and long values decode as URLSearchParams does', () => {
    const body = `a=100%&b=%zz%4&c=%4a%4A&d=测试 商品&e=${'%E6%B5%8B'.repeat(300)}&f=${'x'.repeat(5000)}`
    expect(decodeForm(body)).toEqual(Object.fromEntries(new URLSearchParams(body)))
  })

  test('round-trips any GBK-encodable parameter set in gbk', () => {
    const gbkChar = fc.constantFrom(...'测试商品两杯咖啡 &=+%/?#éabcXYZ019-._~')
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: gbkChar, minLength: 1 }), fc.string({ unit: gbkChar })), (params) => {
        expect(decodeForm(encodeForm(params, 'gbk'), 'gbk')).toEqual(params)
      }),
    )
  })
})

describe('gateway XML replies', () => {
  const documented = `<?xml version="1.0" encoding="utf-8"?>
<alipay>
  <is_success>T</is_success>
  <request>
    <param name="_input_charset">utf-8</param>
    <param name="service">single_trade_query</param>
    <param name="partner">2088101122136241</param>
    <param name="out_trade_no">20240501-0001</param>
  </request>
  <response>
    <trade>
      <buyer_email>buyer@example.com</buyer_email>
      <subject>测试商品 &amp; more</subject>
      <total_fee>0.01</total_fee>
      <trade_status>TRADE_SUCCESS</trade_status>
    </trade>
  </response>
  <sign>c2305666beddda0e62acdc03d848da7a</sign>
  <sign_type>MD5</sign_type>
</alipay>`

  test('parses the documented query reply, values as exact strings', () => {
    const reply = parseGatewayReply(documented)
    expect(reply).toMatchObject({
      isSuccess: true,
      request: { _input_charset: 'utf-8', service: 'single_trade_query', out_trade_no: '20240501-0001' },
      trade: { subject: '测试商品 & more', total_fee: '0.01', trade_status: 'TRADE_SUCCESS' },
      sign: 'c2305666beddda0e62acdc03d848da7a',
      signType: 'MD5',
    })
  })

  test('parses an error reply with the newline real ones carry', () => {
    const reply = parseGatewayReply(
      '<?xml version="1.0" encoding="utf-8"?>\n<alipay><is_success>F</is_success><error>TRADE_NOT_EXIST</error></alipay>',
    )
    expect(reply).toMatchObject({ isSuccess: false, error: 'TRADE_NOT_EXIST' })
  })

  test('render then parse round-trips, escaping markup in values', () => {
    const trade = { subject: '<script>&"\'', total_fee: '1.00', trade_no: '2024' }
    const xml = renderGatewayReply({ isSuccess: true, request: { service: 'q' }, trade, sign: 's', signType: 'MD5' })
    expect(xml).not.toContain('<script>')
    expect(parseGatewayReply(xml)).toMatchObject({
      isSuccess: true,
      trade,
      sign: 's',
      signType: 'MD5',
      request: { service: 'q' },
    })
  })

  test.each([
    ['not xml at all', 'hello'],
    ['another root', '<html><body>502</body></html>'],
    ['no is_success', '<alipay><error>X</error></alipay>'],
    ['a DOCTYPE with entities', '<!DOCTYPE alipay [<!ENTITY x "y">]><alipay><is_success>&x;</is_success></alipay>'],
    ['truncated', '<alipay><is_success>T</is_success'],
    ['too large', `<alipay><is_success>T</is_success><x>${'a'.repeat(300_000)}</x></alipay>`],
  ])('%s is XML_MALFORMED', (_name, xml) => {
    expect(() => parseGatewayReply(xml)).toThrow(expect.objectContaining({ code: 'XML_MALFORMED' }))
  })
})
