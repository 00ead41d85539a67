import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, readPartnerConfigs } from '@alipay-payment-handler/gateway-client'
import { DEMO_APP, DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { buildBrowserParts } from '@alipay-payment-handler/dev-stack/build-browser'
import {
  call,
  createSession,
  gatewaySign,
  paymentData,
  payOrder,
  placeOrder,
  postNotify,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

const ROOT = new URL('../..', import.meta.url).pathname

/** Strings that only key material contains: the MD5 key, and a slice of each private key's body. */
const SECRETS: readonly [name: string, text: string][] = [
  ['demo MD5 key', DEMO_PARTNER.md5Key],
  ...(
    [
      ['merchant private key', DEMO_MERCHANT_RSA.privateKey],
      ['gateway private key', DEMO_GATEWAY_RSA.privateKey],
      ['openapi app private key', DEMO_APP.privateKey],
    ] as const
  ).map(([name, pem]): [string, string] => {
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
    return [name, body.slice(200, 240)]
  }),
  ['a PEM private key', 'PRIVATE KEY-----'],
]

function leaks(text: string): string[] {
  return SECRETS.filter(([, secret]) => text.includes(secret)).map(([name]) => name)
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
  // The built pages and worker must exist to be scanned; builds only when sources changed.
  await buildBrowserParts()
}, 180_000)
afterAll(async () => {
  await stack.close()
})

describe('secrets', () => {
  it('attack: no key material in any built file or source map', () => {
    const files = [...filesUnder(join(ROOT, 'dist')), ...filesUnder(join(ROOT, 'packages/handler/dist/app'))]
    expect(files.some((f) => f.endsWith('sw.js'))).toBe(true)
    expect(files.some((f) => /demo-shop.*\.js$/.test(f))).toBe(true)
    const found = files.flatMap((file) => leaks(readFileSync(file, 'latin1')).map((name) => `${name} in ${file}`))
    expect(found).toEqual([])
  })

  it('attack: no key material in log lines, error bodies or URLs of a full run', async () => {
    const bodies: string[] = []
    const urls: string[] = []
    const paid = await payOrder(stack)
    urls.push(paid.returnUrl)
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const session = await createSession(stack, data, total)
    urls.push(session.json.cashierUrl)
    // Failures of every kind: bad signatures, bad amounts, unknown routes, forged notifies.
    for (const answer of [
      await createSession(stack, { ...data, sign: 'x'.repeat(32) }, total),
      await createSession(stack, { ...data, total_fee: '0.01' }, total),
      await createSession(stack, data, { currency: 'USD', value: '1' }),
      await call(`${stack.signing.url}/api/sessions/${session.json.sessionId}/return`, { body: { query: '?sign=1' } }),
      await call(`${stack.merchant.url}/api/orders/${order.orderId}/confirm`, { body: { details: data } }),
      await call(`${stack.merchant.url}/api/orders/${order.orderId}/refund`, { body: { amount: '1.00' } }),
      await call(`${stack.signing.url}/api/nothing`),
    ]) {
      bodies.push(answer.text)
    }
    const forged = await gatewaySign({ out_trade_no: order.orderId, notify_id: 'n1', trade_status: 'TRADE_SUCCESS' })
    bodies.push((await postNotify(`${stack.signing.url}/notify/mapi`, { ...forged, sign: 'bad' })).text)
    bodies.push((await postNotify(`${stack.merchant.url}/api/notify`, { ...forged, sign: 'bad' })).text)
    expect(stack.logs.length).toBeGreaterThan(10)
    expect(leaks(stack.logs.join('\n'))).toEqual([])
    expect(leaks(bodies.join('\n'))).toEqual([])
    expect(leaks(urls.join('\n'))).toEqual([])
  })

  it('attack: a key file other users may write is refused; a mounted secret they may only read is taken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-keys-'))
    try {
      const keyFile = join(dir, 'merchant-private.pem')
      const md5File = join(dir, 'md5.key')
      const gatewayFile = join(dir, 'gateway-public.pem')
      const partnersFile = join(dir, 'partners.json')
      writeFileSync(keyFile, DEMO_MERCHANT_RSA.privateKey)
      writeFileSync(md5File, `${DEMO_PARTNER.md5Key}\n`)
      writeFileSync(gatewayFile, DEMO_GATEWAY_RSA.publicKey)
      writeFileSync(partnersFile, JSON.stringify({ partners: [] }))
      // Whoever can write a key file can swap the key (or the gateway's public key, and forge
      // notifies): world- or group-writable files are refused, the public key's too.
      chmodSync(keyFile, 0o666)
      chmodSync(md5File, 0o620)
      chmodSync(gatewayFile, 0o646)
      chmodSync(partnersFile, 0o602)
      const env = { ALIPAY_PARTNER: DEMO_PARTNER.partner, ALIPAY_PRIVATE_KEY_FILE: keyFile }
      expect(() => readPartnerConfigs(env)).toThrow(ConfigError)
      expect(() => readPartnerConfigs(env)).toThrow(/writable by other users \(mode 666\); run: chmod 600/)
      expect(() => readPartnerConfigs({ ALIPAY_PARTNER: DEMO_PARTNER.partner, ALIPAY_MD5_KEY_FILE: md5File })).toThrow(
        ConfigError,
      )
      expect(() =>
        readPartnerConfigs({ ALIPAY_PARTNER: DEMO_PARTNER.partner, ALIPAY_GATEWAY_PUBLIC_KEY_FILE: gatewayFile }),
      ).toThrow(ConfigError)
      expect(() => readPartnerConfigs({ ALIPAY_PARTNERS_FILE: partnersFile })).toThrow(ConfigError)
      // The message names the file, never the key.
      try {
        readPartnerConfigs(env)
      } catch (error) {
        expect((error as Error).message).toContain(keyFile)
        expect(leaks((error as Error).message)).toEqual([])
      }
      // Readable by others but writable by the owner only: a Docker or Kubernetes secret (0444, 0644).
      chmodSync(keyFile, 0o644)
      chmodSync(md5File, 0o444)
      chmodSync(gatewayFile, 0o644)
      chmodSync(partnersFile, 0o600)
      expect(statSync(keyFile).mode & 0o022).toBe(0)
      const [config] = readPartnerConfigs(env) as { privateKey: string }[]
      expect(config!.privateKey).toBe(DEMO_MERCHANT_RSA.privateKey.replace(/\n$/, ''))
      // One trailing newline is not part of an MD5 key.
      const [md5] = readPartnerConfigs({ ALIPAY_PARTNER: DEMO_PARTNER.partner, ALIPAY_MD5_KEY_FILE: md5File }) as {
        md5Key: string
      }[]
      expect(md5!.md5Key).toBe(DEMO_PARTNER.md5Key)
      expect(readPartnerConfigs({ ALIPAY_PARTNERS_FILE: partnersFile })).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
