import { createHash, createPrivateKey, createPublicKey } from 'node:crypto'
import { readKey } from '@alipay-payment-handler/protocol'
import type { PartnerConfig } from './partners.js'

/**
 * The sandbox's public demo accounts (packages/sandbox/src/demo-accounts.ts), by fingerprint:
 * what a production start-up must refuse to take to a real gateway. The keys themselves are not
 * shipped here: an RSA key is known by the SHA-256 of its public half (SPKI DER), so its private
 * and its public half, in any encoding, match the same entry; the MD5 key by the SHA-256 of its
 * text. Partner and app ids are public identifiers and are listed as they are.
 * demo-identities.test.ts checks this list against @alipay-payment-handler/sandbox/testing.
 */
export const DEMO_IDENTITIES = {
  /** DEMO_PARTNER.partner (also its seller id and DEMO_APP.sellerId). */
  partnerIds: ['2088101122136241'],
  /** DEMO_APP.appId. */
  appIds: ['2021000122671080'],
  keys: [
    { name: 'the demo MD5 key', sha256: 'fa24f1c01dbed89e4859f32b7381bbe615800c02d8f8f9bfe784223d89b2038d' },
    { name: 'the demo merchant RSA key', sha256: 'bc94634934bb66ea053f3ed15d1cc95d700430798f08c6f01b89778a9708f809' },
    { name: 'the sandbox gateway RSA key', sha256: 'a69de814c6d66f29ec1d9580b83373759b043042e9201f2907eeb0eb225cd0dc' },
    {
      name: 'the demo openapi app RSA key',
      sha256: '74c8b39d4b77b1e614e39469e02c2ed03726f9d7287d6bc322052ad23bc4cce4',
    },
  ],
} as const

const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/**
 * The fingerprint of key material: SHA-256 of the RSA public half's SPKI DER for an RSA key
 * (private or public, PEM or bare base64), else SHA-256 of the text (an MD5 key).
 */
export function keyFingerprint(text: string): string {
  let spki: Buffer
  try {
    const { der, kind } = readKey(text)
    const key = Buffer.from(der)
    const publicKey =
      kind === 'pkcs8-private' || kind === 'pkcs1-private'
        ? createPublicKey(createPrivateKey({ key, format: 'der', type: kind === 'pkcs1-private' ? 'pkcs1' : 'pkcs8' }))
        : createPublicKey({ key, format: 'der', type: kind === 'pkcs1-public' ? 'pkcs1' : 'spki' })
    spki = publicKey.export({ type: 'spki', format: 'der' })
  } catch {
    return sha256(text)
  }
  return sha256(spki)
}

/** Which demo key `text` is (`the demo MD5 key`, …), or undefined. */
export function demoKeyName(text: string): string | undefined {
  const fingerprint = keyFingerprint(text)
  return DEMO_IDENTITIES.keys.find((key) => key.sha256 === fingerprint)?.name
}

/** Whether `url` is the local sandbox: `http://` on localhost, 127.0.0.1 or [::1] (any port). */
export function isSandboxGatewayUrl(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url)
    return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname)
  } catch {
    return false
  }
}

/** One field of a partner config that holds a demo identity. */
export interface DemoIdentityUse {
  field: keyof PartnerConfig
  /** What it is, e.g. `the sandbox's demo partner id 2088101122136241`, `the demo MD5 key`. */
  what: string
}

const KEY_FIELDS = ['md5Key', 'privateKey', 'publicKey', 'gatewayPublicKey', 'merchantPublicKey'] as const

/** The fields of a partner config (checked or not) that hold a demo partner id, app id or key. */
export function findDemoIdentities(config: unknown): DemoIdentityUse[] {
  if (typeof config !== 'object' || config === null) return []
  const c = config as Partial<Record<keyof PartnerConfig, unknown>>
  const found: DemoIdentityUse[] = []
  const ids: readonly string[] = DEMO_IDENTITIES.partnerIds
  for (const field of ['partner', 'sellerId'] as const) {
    const value = c[field]
    if (typeof value === 'string' && ids.includes(value))
      found.push({ field, what: `the sandbox's demo partner id ${value}` })
  }
  const appIds: readonly string[] = DEMO_IDENTITIES.appIds
  if (typeof c.appId === 'string' && appIds.includes(c.appId))
    found.push({ field: 'appId', what: `the sandbox's demo app id ${c.appId}` })
  for (const field of KEY_FIELDS) {
    const value = c[field]
    const name = typeof value === 'string' ? demoKeyName(value) : undefined
    if (name) found.push({ field, what: `${name} (a PUBLIC TEST key of the sandbox)` })
  }
  return found
}
