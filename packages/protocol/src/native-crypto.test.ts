import { afterAll, describe, expect, test } from 'vitest'
import { loadMapiVectors } from '../../../tests/support/vectors.js'
import { nativeCrypto, useNativeCrypto } from './native-crypto.js'
import { md5Sign, signString, verifyParams } from './sign.js'

afterAll(() => useNativeCrypto(true))

describe('native and WebCrypto paths agree', () => {
  test('Node is detected without any node: import', () => {
    expect(nativeCrypto()).toBeDefined()
  })

  for (const native of [true, false]) {
    test(`every vector signs and verifies byte for byte with native crypto ${native ? 'on' : 'off'}`, async () => {
      useNativeCrypto(native)
      expect(nativeCrypto() !== undefined).toBe(native)
      for (const v of [...loadMapiVectors('md5'), ...loadMapiVectors('rsa'), ...loadMapiVectors('rsa2')]) {
        const keys = { md5Key: v.key, privateKey: v.private_key_pem, publicKey: v.public_key_pem }
        expect(await signString(v.string_to_sign, v.sign_type, keys)).toBe(v.sign)
        expect((await verifyParams({ ...v.params, sign_type: v.sign_type, sign: v.sign }, { keys })).ok).toBe(true)
        expect((await verifyParams({ ...v.params, sign_type: v.sign_type, sign: v.sign, x: '1' }, { keys })).ok).toBe(
          false,
        )
      }
      expect(md5Sign('测试', 'k', 'gbk')).toHaveLength(32)
    })
  }

  test('MD5 of a string hashes the bytes encodeText gives, lone surrogates included', () => {
    // Node hashes a UTF-8 string itself; the other path encodes with TextEncoder and hashes bytes.
    const texts = [
      'partner=123&service=test',
      'subject=测试商品 两杯咖啡',
      'a=\u{1F600}',
      'a=\uD800&b=\uDFFF',
      'x\uD83D',
    ]
    const signs = (native: boolean) => {
      useNativeCrypto(native)
      return texts.flatMap((text) => [md5Sign(text, 'key'), md5Sign(text, '\uDE00key'), md5Sign(text, 'key', 'UTF-8')])
    }
    expect(signs(false)).toEqual(signs(true))
    for (const native of [true, false]) {
      useNativeCrypto(native)
      expect(md5Sign('partner=123&service=test', '10000000000000000000000000000000')).toBe(
        'bbd13b52823b576291595f472ebcfbc2',
      )
      // A lone surrogate is signed as U+FFFD's bytes; one completed by the key's first character is not.
      expect(md5Sign('x\uD83D', 'key')).toBe(md5Sign('x\uFFFD', 'key'))
      expect(md5Sign('x\uD83D', '\uDE00key')).toBe(md5Sign('x', '\u{1F600}key'))
      expect(md5Sign('x\uD83D', '\uDE00key')).not.toBe(md5Sign('x\uFFFD', '\uFFFDkey'))
    }
  })
})
