import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadMapiVectors } from '../../../tests/support/vectors.js'
import { assertKeyUsable, importPrivateKey, importPublicKey, readKey } from './keys.js'
import { signString, verifyString } from './sign.js'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
const pem = {
  pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  pkcs1: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  spki: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  pkcs1Public: publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
}
/** Alipay's tools hand out keys as bare base64, without PEM armour. */
const bare = (text: string) => text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')

describe('key formats', () => {
  test.each([
    ['PKCS#8 PEM', pem.pkcs8, 'pkcs8-private'],
    ['PKCS#1 PEM', pem.pkcs1, 'pkcs1-private'],
    ['SPKI PEM', pem.spki, 'spki-public'],
    ['PKCS#1 public PEM', pem.pkcs1Public, 'pkcs1-public'],
    ['bare base64 PKCS#8', bare(pem.pkcs8), 'pkcs8-private'],
    ['bare base64 SPKI', bare(pem.spki), 'spki-public'],
  ])('%s is recognised', (_name, text, kind) => {
    expect(readKey(text).kind).toBe(kind)
  })

  test('every private form signs what every public form verifies', async () => {
    for (const priv of [pem.pkcs8, pem.pkcs1, bare(pem.pkcs8), bare(pem.pkcs1)]) {
      const sign = await signString('a=1', 'RSA', { privateKey: priv })
      for (const pub of [pem.spki, pem.pkcs1Public, bare(pem.spki)]) {
        expect(await verifyString('a=1', sign, 'RSA', { publicKey: pub })).toMatchObject({ ok: true })
      }
    }
  })

  test('a public key in the private slot, and the reverse, are KEY_KIND errors', async () => {
    await expect(importPrivateKey(pem.spki, 'RSA2')).rejects.toMatchObject({ code: 'KEY_KIND' })
    await expect(importPublicKey(pem.pkcs8, 'RSA2')).rejects.toMatchObject({ code: 'KEY_KIND' })
  })

  test.each([
    ['garbage', 'not a key'],
    ['empty', ''],
    ['truncated PEM', pem.pkcs8.slice(0, 200) + '\n-----END PRIVATE KEY-----'],
    ['a certificate-shaped blob', 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
  ])('%s is a KEY_FORMAT error at start-up', async (_name, text) => {
    await expect(assertKeyUsable(text, 'sign')).rejects.toMatchObject({ code: 'KEY_FORMAT' })
  })

  test('the vector key pair passes the start-up check', async () => {
    const v = loadMapiVectors('rsa')[0]!
    await expect(assertKeyUsable(v.private_key_pem!, 'sign')).resolves.toBeUndefined()
    await expect(assertKeyUsable(v.public_key_pem!, 'verify')).resolves.toBeUndefined()
  })
})

describe('a certificate where a public key is expected', () => {
  // A self-signed certificate over this file's key pair, made with openssl (Node cannot issue one).
  const dir = mkdtempSync(join(tmpdir(), 'keys-cert-'))
  writeFileSync(join(dir, 'key.pem'), pem.pkcs8)
  const certificate = execFileSync('openssl', [
    'req',
    '-x509',
    '-key',
    join(dir, 'key.pem'),
    '-subj',
    '/CN=keys test',
    '-days',
    '1',
    '-sha256',
  ]).toString()
  rmSync(dir, { recursive: true })

  test('is taken for the key inside it, and refused where a private key belongs', async () => {
    expect(readKey(certificate).kind).toBe('x509-certificate')
    const signature = await signString('hello', 'RSA2', { privateKey: pem.pkcs8 })
    expect((await verifyString('hello', signature, 'RSA2', { publicKey: certificate })).ok).toBe(true)
    expect((await verifyString('hullo', signature, 'RSA2', { publicKey: certificate })).ok).toBe(false)
    await expect(importPrivateKey(certificate, 'RSA2')).rejects.toMatchObject({ code: 'KEY_KIND' })
    await expect(assertKeyUsable(certificate, 'verify')).resolves.toBeUndefined()
  })
})
