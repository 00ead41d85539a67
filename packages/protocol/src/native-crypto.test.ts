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
})
