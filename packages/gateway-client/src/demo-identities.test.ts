import { createPrivateKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as sandbox from '@alipay-payment-handler/sandbox/testing'
import {
  DEMO_APP,
  DEMO_BUYER,
  DEMO_GATEWAY_RSA,
  DEMO_MERCHANT_RSA,
  DEMO_PARTNER,
} from '@alipay-payment-handler/sandbox/testing'
import {
  DEMO_IDENTITIES,
  demoKeyName,
  findDemoIdentities,
  isSandboxGatewayUrl,
  keyFingerprint,
} from './demo-identities.js'

const bare = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')

describe('the demo identities a production start refuses', () => {
  it('lists exactly the sandbox’s demo partner id, app id and keys', () => {
    expect(DEMO_IDENTITIES.partnerIds).toEqual([
      ...new Set([DEMO_PARTNER.partner, DEMO_PARTNER.sellerId, DEMO_APP.sellerId]),
    ])
    expect(DEMO_IDENTITIES.appIds).toEqual([DEMO_APP.appId])
    expect(DEMO_IDENTITIES.keys.map((k) => k.sha256)).toEqual([
      keyFingerprint(DEMO_PARTNER.md5Key),
      keyFingerprint(DEMO_MERCHANT_RSA.publicKey),
      keyFingerprint(DEMO_GATEWAY_RSA.publicKey),
      keyFingerprint(DEMO_APP.publicKey),
    ])
    // Every key of every account the sandbox exports is listed, so a new demo key cannot slip past.
    const listed = new Set<string>(DEMO_IDENTITIES.keys.map((k) => k.sha256))
    const exported = Object.values(sandbox).flatMap((value) =>
      typeof value === 'object' && value !== null
        ? Object.entries(value).filter(([field, text]) => /key/i.test(field) && typeof text === 'string')
        : [],
    )
    expect(exported.length).toBeGreaterThanOrEqual(7)
    for (const [field, text] of exported) expect(listed.has(keyFingerprint(text as string)), field).toBe(true)
    // The buyers are not partners.
    expect(DEMO_IDENTITIES.partnerIds).not.toContain(DEMO_BUYER.userId)
  })

  it('knows each demo key by either half, in PEM, bare base64 or PKCS#1, and no other key', () => {
    for (const pair of [DEMO_MERCHANT_RSA, DEMO_GATEWAY_RSA, DEMO_APP]) {
      const name = demoKeyName(pair.publicKey)
      expect(name).toBeDefined()
      const pkcs1 = createPrivateKey(pair.privateKey).export({ type: 'pkcs1', format: 'pem' }).toString()
      for (const text of [pair.privateKey, bare(pair.privateKey), bare(pair.publicKey), pkcs1]) {
        expect(demoKeyName(text)).toBe(name)
      }
    }
    expect(demoKeyName(DEMO_PARTNER.md5Key)).toBe('the demo MD5 key')
    expect(demoKeyName('0'.repeat(32))).toBeUndefined()
    expect(demoKeyName('not a key')).toBeUndefined()
  })

  it('finds the fields of a partner config that hold demo identities', () => {
    expect(
      findDemoIdentities({ partner: DEMO_PARTNER.partner, md5Key: DEMO_PARTNER.md5Key }).map((u) => u.field),
    ).toEqual(['partner', 'md5Key'])
    expect(
      findDemoIdentities({ kind: 'openapi', partner: '2088000000000001', appId: DEMO_APP.appId }).map((u) => u.field),
    ).toEqual(['appId'])
    expect(findDemoIdentities({ partner: '2088000000000001', md5Key: '0'.repeat(32) })).toEqual([])
    expect(findDemoIdentities(undefined)).toEqual([])
  })

  it('takes only http://localhost, 127.0.0.1 and [::1] for the sandbox', () => {
    for (const url of ['http://localhost:4300/gateway.do', 'http://127.0.0.1/gateway.do', 'http://[::1]:1/gateway.do'])
      expect(isSandboxGatewayUrl(url)).toBe(true)
    for (const url of [
      'https://localhost:4300/gateway.do',
      'https://mapi.alipay.com/gateway.do',
      'http://gateway.test/gateway.do',
      'http://localhost.example.com/gateway.do',
      'http://10.0.0.1/gateway.do',
      'not a url',
    ])
      expect(isSandboxGatewayUrl(url)).toBe(false)
  })
})
