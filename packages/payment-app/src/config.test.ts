import { generateKeyPairSync } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_APP, DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { loadAppConfig, type AppConfig } from './config.js'

const SANDBOX = 'http://127.0.0.1:4300/gateway.do'
const REAL = 'https://mapi.alipay.com/gateway.do'
const REAL_OPENAPI = 'https://openapi.alipay.com/gateway.do'
const SHOP = 'https://shop.example'
/** A partner of one's own: not the sandbox's. */
const OWN = { partner: '2088000000000001', md5Key: 'Own0md5key0of0a0real0partner0001', appId: '2021000000000001' }
const rsa = () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}
let ownRsa: { privateKey: string; publicKey: string }
let alipayRsa: { privateKey: string; publicKey: string }

let dir: string
let db: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'alipay-app-config-'))
  db = join(dir, 'data', 'signing.db')
  ownRsa = rsa()
  alipayRsa = rsa()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Writes a file with a mode (chmod after, so the umask does not hide the bits). */
function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  chmodSync(path, mode)
  return path
}

/** Every key text a message could leak. */
const KEY_TEXTS = [DEMO_PARTNER.md5Key, OWN.md5Key, DEMO_MERCHANT_RSA.privateKey.slice(40, 90)]

async function problems(env: Record<string, string>, argv: string[] = []): Promise<string[]> {
  const result = await loadAppConfig(argv, { SIGNING_SERVER_DB: db, ...env })
  if (result.kind !== 'invalid') throw new Error(`expected problems, got ${JSON.stringify(result)}`)
  for (const line of result.problems) for (const secret of KEY_TEXTS) expect(line).not.toContain(secret)
  return result.problems
}

async function config(
  env: Record<string, string>,
  argv: string[] = [],
): Promise<{ config: AppConfig; warnings: string[] }> {
  const result = await loadAppConfig(argv, { SIGNING_SERVER_DB: db, ...env })
  if (result.kind !== 'ok') throw new Error(`expected a configuration, got ${JSON.stringify(result)}`)
  return result
}

/** The demo partner, as `npm start` and the sandbox's own hint configure it. */
const demoEnv = (gateway: string) => ({
  ALIPAY_GATEWAY_URL: gateway,
  ALIPAY_PARTNER: DEMO_PARTNER.partner,
  ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
  ALIPAY_ALLOWED_ORIGINS: 'http://localhost:4100',
})
/** One's own partner against the real gateway, all https. */
const ownEnv = {
  ALIPAY_GATEWAY_URL: REAL,
  ALIPAY_PARTNER: OWN.partner,
  ALIPAY_MD5_KEY: OWN.md5Key,
  ALIPAY_ALLOWED_ORIGINS: SHOP,
  PUBLIC_ORIGIN: 'https://pay.example.com',
}

describe('a good configuration', () => {
  it('takes the demo partner against the local sandbox, http origins included, with the defaults', async () => {
    for (const gateway of [SANDBOX, 'http://localhost:4300/gateway.do', 'http://[::1]:4300/gateway.do']) {
      const { config: c, warnings } = await config(demoEnv(gateway))
      expect(warnings).toEqual([])
      expect(c).toMatchObject({
        host: '127.0.0.1',
        port: 4200,
        publicOrigin: undefined,
        gatewayUrl: gateway,
        trustedProxies: [],
        allowedOrigins: ['http://localhost:4100'],
        dbPath: db,
        logLevel: 'info',
        insecureOrigins: false,
        shutdownTimeoutMs: 10_000,
      })
      expect(c.partners).toEqual([expect.objectContaining({ partner: DEMO_PARTNER.partner })])
    }
  })

  it('takes DATABASE_URL: a postgres:// URL selects PostgreSQL, a path SQLite; our own variable and --db win', async () => {
    const url = 'postgres://pay:s3cret@db.internal:5432/payments'
    const load = async (env: Record<string, string>, argv: string[] = []) => {
      const result = await loadAppConfig(argv, { ...demoEnv(SANDBOX), ...env })
      if (result.kind !== 'ok') throw new Error(JSON.stringify(result))
      return result.config.dbPath
    }
    expect(await load({ DATABASE_URL: url })).toBe(url)
    expect(await load({ DATABASE_URL: 'postgresql://db.internal/payments' })).toBe('postgresql://db.internal/payments')
    expect(await load({ DATABASE_URL: db })).toBe(db)
    expect(await load({ DATABASE_URL: url, SIGNING_SERVER_DB: db })).toBe(db)
    expect(await load({ DATABASE_URL: db }, ['--db', url])).toBe(url)
    expect(await load({})).toBe('.data/signing-server.db')
    const withFlag = await loadAppConfig(['--migrate-only'], { ...demoEnv(SANDBOX), DATABASE_URL: url })
    expect(withFlag.kind === 'ok' && withFlag.config.migrateOnly).toBe(true)
  })

  it('takes one’s own partner against the real gateway over https', async () => {
    const { config: c } = await config(ownEnv, ['--trusted-proxies', '10.0.0.0/8, 192.0.2.7,::1'])
    expect(c.partners).toEqual([expect.objectContaining({ partner: OWN.partner, allowedOrigins: [SHOP] })])
    expect(c.trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7', '::1'])
  })

  it('lets flags win over the environment, and the environment over the config file (paths relative to it)', async () => {
    // Named relative to the config file below.
    file('own-partners.json', JSON.stringify({ partners: [{ partner: OWN.partner, md5Key: OWN.md5Key }] }))
    const configFile = file(
      'app.json',
      JSON.stringify({
        host: '0.0.0.0',
        port: 8080,
        publicOrigin: 'https://file.example.com',
        gatewayUrl: REAL,
        trustedProxies: ['172.16.0.0/12'],
        allowedOrigins: [SHOP, 'https://other-shop.example'],
        partnersFile: 'own-partners.json',
        database: 'state/app.db',
        logLevel: 'warn',
        shutdownTimeout: 2.5,
      }),
      0o644,
    )
    const { config: c } = await loadAppConfig(['--config', configFile, '--port', '9090'], {
      PUBLIC_ORIGIN: 'https://env.example.com',
    }).then((r) => (r.kind === 'ok' ? r : Promise.reject(new Error(JSON.stringify(r)))))
    expect(c).toMatchObject({
      host: '0.0.0.0',
      port: 9090,
      publicOrigin: 'https://env.example.com',
      gatewayUrl: REAL,
      trustedProxies: ['172.16.0.0/12'],
      allowedOrigins: [SHOP, 'https://other-shop.example'],
      dbPath: join(dir, 'state', 'app.db'),
      logLevel: 'warn',
      shutdownTimeoutMs: 2500,
      configFile,
    })
    // The partner without origins of its own takes the server-wide list.
    expect(c.partners).toEqual([
      expect.objectContaining({ partner: OWN.partner, allowedOrigins: [SHOP, 'https://other-shop.example'] }),
    ])
    const viaEnv = await loadAppConfig([], { ALIPAY_PAYMENT_APP_CONFIG: configFile })
    expect(viaEnv).toMatchObject({ kind: 'ok', config: { port: 8080, publicOrigin: 'https://file.example.com' } })
  })

  it('answers --help with the usage', async () => {
    expect(await loadAppConfig(['--help'], {})).toMatchObject({
      kind: 'help',
      text: expect.stringContaining('--config FILE'),
    })
  })
})

describe('refused configurations: one line per problem, naming the flag, variable or key path', () => {
  it('collects every problem at once instead of stopping at the first', async () => {
    const lines = await problems({}, ['--port', 'eighty', '--log-level', 'loud', '--shutdown-timeout', '700'])
    expect(lines).toEqual([
      '--port: must be a port number from 0 to 65535, not "eighty"',
      expect.stringMatching(/^ALIPAY_GATEWAY_URL: is missing: the gateway\.do URL/),
      '--log-level: must be debug, info, warn or error, not "loud"',
      '--shutdown-timeout: must be a number of seconds from 0 to 600, not "700"',
      expect.stringMatching(/^ALIPAY_PARTNER: no partner is configured: set ALIPAY_PARTNER with its keys/),
    ])
  })

  it('refuses malformed values: gateway URL, origins, proxies, host, the database', async () => {
    file('not-a-dir', 'x')
    const lines = await problems({
      ...ownEnv,
      ALIPAY_GATEWAY_URL: 'https://mapi.alipay.com/gateway.do?_input_charset=utf-8',
      PUBLIC_ORIGIN: 'https://pay.example.com/',
      ALIPAY_ALLOWED_ORIGINS: 'shop.example',
      TRUSTED_PROXIES: '10.0.0.0/33,proxy.internal',
      HOST: 'bad host',
      SIGNING_SERVER_DB: join(dir, 'not-a-dir', 'signing.db'),
    })
    expect(lines).toEqual([
      'HOST: must be an interface address or host name like 127.0.0.1 or 0.0.0.0, not "bad host"',
      'ALIPAY_GATEWAY_URL: must be an http(s) URL like "https://mapi.alipay.com/gateway.do" (no query), not "https://mapi.alipay.com/gateway.do?_input_charset=utf-8"',
      'PUBLIC_ORIGIN: "https://pay.example.com/" must be an origin like "https://pay.example.com" (scheme, host, port; no path or trailing slash)',
      'ALIPAY_ALLOWED_ORIGINS: "shop.example" must be an origin like "https://pay.example.com" (scheme, host, port; no path or trailing slash)',
      'TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or CIDR range (like 10.0.0.0/8, 192.0.2.7 or ::1)',
      'TRUSTED_PROXIES: "proxy.internal" is not an IP address or CIDR range (like 10.0.0.0/8, 192.0.2.7 or ::1)',
      `SIGNING_SERVER_DB: cannot create ${join(dir, 'not-a-dir', 'signing.db')}: ${join(dir, 'not-a-dir')} is not a directory`,
    ])
  })

  it('refuses a PostgreSQL URL without a host or with a path, never repeating its password', async () => {
    const lines = await problems({ ...demoEnv(SANDBOX), SIGNING_SERVER_DB: '', DATABASE_URL: 'postgres:///payments' })
    expect(lines).toEqual([
      'DATABASE_URL: postgres:///payments names no host (postgres://user:password@host:5432/database)',
    ])
    const nested = await problems({
      ...demoEnv(SANDBOX),
      SIGNING_SERVER_DB: '',
      DATABASE_URL: 'postgres://pay:s3cret@db.internal/a/b',
    })
    expect(nested).toEqual(['DATABASE_URL: postgres://pay:***@db.internal/a/b names more than one database'])
  })

  describe('a demo identity against a gateway that is not the local sandbox', () => {
    const notSandbox = (gateway: string) =>
      `and ${gateway} is not the local sandbox (http://localhost, 127.0.0.1 or [::1])`

    it('refuses the demo partner id and MD5 key, from the environment or a key file', async () => {
      for (const gateway of [REAL, 'https://localhost:4300/gateway.do', 'http://10.0.0.5/gateway.do']) {
        const lines = await problems({
          ...demoEnv(gateway),
          ALIPAY_ALLOWED_ORIGINS: SHOP,
          PUBLIC_ORIGIN: 'https://pay.example.com',
        })
        expect(lines).toEqual([
          `ALIPAY_PARTNER: is the sandbox's demo partner id 2088101122136241, ${notSandbox(gateway)}: configure the partner's own account`,
          `ALIPAY_MD5_KEY: is the demo MD5 key (a PUBLIC TEST key of the sandbox), ${notSandbox(gateway)}: configure the partner's own keys`,
        ])
      }
      const md5File = file('demo-md5.key', `${DEMO_PARTNER.md5Key}\n`)
      const lines = await problems({ ...ownEnv, ALIPAY_MD5_KEY: '', ALIPAY_MD5_KEY_FILE: md5File })
      expect(lines).toEqual([
        `ALIPAY_MD5_KEY_FILE: is the demo MD5 key (a PUBLIC TEST key of the sandbox), ${notSandbox(REAL)}: configure the partner's own keys`,
      ])
    })

    it('refuses the demo RSA keys in any field and encoding, and the demo app id', async () => {
      const bare = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
      const lines = await problems({
        ...ownEnv,
        ALIPAY_MD5_KEY: '',
        ALIPAY_SIGN_TYPE: 'RSA2',
        ALIPAY_PRIVATE_KEY: bare(DEMO_MERCHANT_RSA.privateKey),
        ALIPAY_GATEWAY_PUBLIC_KEY: DEMO_GATEWAY_RSA.publicKey,
        ALIPAY_MERCHANT_PUBLIC_KEY: ownRsa.publicKey,
      })
      expect(lines).toEqual([
        `ALIPAY_PRIVATE_KEY: is the demo merchant RSA key (a PUBLIC TEST key of the sandbox), ${notSandbox(REAL)}: configure the partner's own keys`,
        `ALIPAY_GATEWAY_PUBLIC_KEY: is the sandbox gateway RSA key (a PUBLIC TEST key of the sandbox), ${notSandbox(REAL)}: configure the partner's own keys`,
      ])
      const openapi = await problems({
        ALIPAY_GATEWAY_URL: REAL_OPENAPI,
        ALIPAY_GATEWAY_KIND: 'openapi',
        ALIPAY_APP_ID: DEMO_APP.appId,
        ALIPAY_APP_PRIVATE_KEY: DEMO_APP.privateKey,
        ALIPAY_PUBLIC_KEY: alipayRsa.publicKey,
        ALIPAY_APP_SELLER_ID: OWN.partner,
        ALIPAY_ALLOWED_ORIGINS: SHOP,
        PUBLIC_ORIGIN: 'https://pay.example.com',
      })
      expect(openapi).toEqual([
        `ALIPAY_APP_ID: is the sandbox's demo app id ${DEMO_APP.appId}, ${notSandbox(REAL_OPENAPI)}: configure the partner's own app`,
        `ALIPAY_APP_PRIVATE_KEY: is the demo openapi app RSA key (a PUBLIC TEST key of the sandbox), ${notSandbox(REAL_OPENAPI)}: configure the partner's own keys`,
      ])
    })

    it('checks each partner against its own gateway: a partners-file entry naming the real one', async () => {
      const partnersFile = file(
        'mixed-partners.json',
        JSON.stringify({
          partners: [
            { partner: DEMO_PARTNER.partner, md5Key: DEMO_PARTNER.md5Key, allowedOrigins: ['http://localhost:4100'] },
            {
              kind: 'openapi',
              partner: OWN.partner,
              sellerId: DEMO_APP.sellerId,
              appId: DEMO_APP.appId,
              privateKey: DEMO_APP.privateKey,
              publicKey: DEMO_GATEWAY_RSA.publicKey,
              allowedOrigins: [SHOP],
              gatewayUrl: REAL_OPENAPI,
            },
          ],
        }),
      )
      const lines = await problems({
        ALIPAY_GATEWAY_URL: SANDBOX,
        ALIPAY_PARTNERS_FILE: partnersFile,
        PUBLIC_ORIGIN: 'https://pay.example.com',
      })
      const tail = `${notSandbox(REAL_OPENAPI)}: configure the partner's own`
      expect(lines).toEqual([
        `partners[1].sellerId: is the sandbox's demo partner id ${DEMO_APP.sellerId}, ${tail} account`,
        `partners[1].appId: is the sandbox's demo app id ${DEMO_APP.appId}, ${tail} app`,
        `partners[1].privateKey: is the demo openapi app RSA key (a PUBLIC TEST key of the sandbox), ${tail} keys`,
        `partners[1].publicKey: is the sandbox gateway RSA key (a PUBLIC TEST key of the sandbox), ${tail} keys`,
      ])
    })
  })

  it('refuses an openapi app without its app id or its keys', async () => {
    const base = {
      ALIPAY_GATEWAY_URL: REAL_OPENAPI,
      ALIPAY_GATEWAY_KIND: 'openapi',
      ALIPAY_APP_SELLER_ID: OWN.partner,
      ALIPAY_ALLOWED_ORIGINS: SHOP,
      PUBLIC_ORIGIN: 'https://pay.example.com',
    }
    expect(await problems(base)).toEqual([
      'ALIPAY_APP_ID: is missing: ALIPAY_GATEWAY_KIND=openapi needs the app id, with ALIPAY_APP_PRIVATE_KEY(_FILE), ALIPAY_PUBLIC_KEY(_FILE) and ALIPAY_APP_SELLER_ID',
    ])
    expect(await problems({ ...base, ALIPAY_APP_ID: OWN.appId })).toEqual([
      "ALIPAY_APP_PRIVATE_KEY: is missing: an openapi partner needs the app's private key",
      "ALIPAY_PUBLIC_KEY: is missing: an openapi partner needs Alipay's public key",
    ])
    const partnersFile = file(
      'openapi-partners.json',
      JSON.stringify({
        partners: [{ kind: 'openapi', partner: OWN.partner, privateKey: ownRsa.privateKey, allowedOrigins: [SHOP] }],
      }),
    )
    expect(await problems({ ...base, ALIPAY_GATEWAY_KIND: '', ALIPAY_PARTNERS_FILE: partnersFile })).toEqual([
      'partners[0].appId: is missing: an openapi partner needs its app id',
      "partners[0].publicKey: is missing: an openapi partner needs Alipay's public key",
    ])
    expect(await problems({ ...base, ALIPAY_GATEWAY_KIND: 'soap', ALIPAY_PARTNERS_FILE: partnersFile })).toContain(
      'ALIPAY_GATEWAY_KIND: must be mapi or openapi, not "soap"',
    )
    expect(await problems({ ...ownEnv, ALIPAY_APP_ID: OWN.appId })).toEqual([
      'ALIPAY_APP_ID: is set but ALIPAY_GATEWAY_KIND is not openapi: set ALIPAY_GATEWAY_KIND=openapi, or unset it',
    ])
  })

  it('refuses an http:// public or merchant origin against a real gateway, unless --insecure-origins (warned)', async () => {
    const env = {
      ...ownEnv,
      PUBLIC_ORIGIN: 'http://pay.example.com',
      ALIPAY_ALLOWED_ORIGINS: `${SHOP},http://shop.example`,
    }
    const against = `and ${REAL} is not the local sandbox`
    expect(await problems(env)).toEqual([
      `ALIPAY_ALLOWED_ORIGINS: merchant origin http://shop.example is http://, ${against}: merchant pages must be https:// (or pass --insecure-origins)`,
      `PUBLIC_ORIGIN: http://pay.example.com is http://, ${against}: set the https:// origin your TLS proxy serves, e.g. https://pay.example.com (or pass --insecure-origins)`,
    ])
    // Unset, the public origin is http://localhost:<port>: refused too.
    expect(await problems({ ...ownEnv, PUBLIC_ORIGIN: '' }, ['--port', '8443'])).toEqual([
      `PUBLIC_ORIGIN: unset, so http://localhost:8443 is http://, ${against}: set the https:// origin your TLS proxy serves, e.g. https://pay.example.com (or pass --insecure-origins)`,
    ])
    const { config: c, warnings } = await config(env, ['--insecure-origins'])
    expect(c.insecureOrigins).toBe(true)
    expect(warnings).toEqual([
      `--insecure-origins: ALIPAY_ALLOWED_ORIGINS: merchant origin http://shop.example is http://, ${against}; payments from that page go without TLS`,
      `--insecure-origins: PUBLIC_ORIGIN: http://pay.example.com is http://, ${against}; browsers and Alipay reach the payment app without TLS`,
    ])
    // A partners-file entry's own origins are named by their key path.
    const partnersFile = file(
      'http-partners.json',
      JSON.stringify({
        partners: [{ partner: OWN.partner, md5Key: OWN.md5Key, allowedOrigins: [SHOP, 'http://shop.example'] }],
      }),
    )
    expect(await problems({ ...ownEnv, ALIPAY_PARTNER: '', ALIPAY_PARTNERS_FILE: partnersFile })).toEqual([
      `partners[0].allowedOrigins[1]: merchant origin http://shop.example is http://, ${against}: merchant pages must be https:// (or pass --insecure-origins)`,
    ])
  })

  it('refuses a partner whose sign type has no key', async () => {
    expect(await problems({ ...ownEnv, ALIPAY_MD5_KEY: '', ALIPAY_SIGN_TYPE: 'RSA2' })).toEqual([
      'ALIPAY_PRIVATE_KEY: is missing: signType RSA2 signs with the RSA private key',
      'ALIPAY_GATEWAY_PUBLIC_KEY: is missing: signType RSA2 verifies the gateway with its RSA public key',
      "ALIPAY_MERCHANT_PUBLIC_KEY: is missing: without an MD5 key, the merchant's RSA public key verifies the merchant's sign",
    ])
    expect(
      await problems({ ...ownEnv, ALIPAY_SIGN_TYPE: 'MD5', ALIPAY_MD5_KEY: '', ALIPAY_PRIVATE_KEY: ownRsa.privateKey }),
    ).toEqual(['ALIPAY_MD5_KEY: is missing: signType MD5 signs with the MD5 key'])
    const partnersFile = file(
      'keyless-partners.json',
      JSON.stringify({
        partners: [
          { partner: OWN.partner, signType: 'MD5', merchantPublicKey: ownRsa.publicKey, allowedOrigins: [SHOP] },
          { partner: '2088000000000002', md5Key: 'too short', allowedOrigins: [SHOP] },
        ],
      }),
    )
    expect(await problems({ ...ownEnv, ALIPAY_PARTNER: '', ALIPAY_PARTNERS_FILE: partnersFile })).toEqual([
      'partners[0].md5Key: is missing: signType MD5 signs with the MD5 key',
      'partners[1].md5Key: must be 32 letters or digits',
    ])
  })

  it('refuses a key that does not import, naming the field and never the key', async () => {
    expect(
      await problems({
        ...ownEnv,
        ALIPAY_SIGN_TYPE: 'RSA',
        ALIPAY_PRIVATE_KEY: 'not a key',
        ALIPAY_GATEWAY_PUBLIC_KEY: alipayRsa.publicKey,
      }),
    ).toEqual([
      'ALIPAY_PRIVATE_KEY: is not a usable RSA private key (KEY_FORMAT): give PEM (PKCS#8, PKCS#1 or SPKI) or bare base64 DER',
    ])
  })

  it('refuses unknown flags, unknown config-file keys and partners inside the config file', async () => {
    expect(await problems({}, ['--frobnicate'])).toEqual([
      '--frobnicate: not an option of alipay-payment-app (see --help)',
    ])
    const configFile = file('bad-app.json', JSON.stringify({ gatewayUrl: REAL, prot: 80, partners: [] }))
    const lines = await problems({ ...ownEnv, ALIPAY_PAYMENT_APP_CONFIG: configFile })
    expect(lines).toEqual([
      "prot: not a setting of alipay-payment-app (the file's keys: host, port, publicOrigin, gatewayUrl, trustedProxies, allowedOrigins, partnersFile, database, logLevel, shutdownTimeout)",
      'partners: the partners and their keys go in a file of their own: name it with "partnersFile" or ALIPAY_PARTNERS_FILE',
    ])
    const notJson = file('not-json.json', '{ gatewayUrl: ')
    expect((await problems({ ...ownEnv }, ['--config', notJson]))[0]).toMatch(
      /^--config: .*not-json\.json is not JSON: /,
    )
  })
})

describe('secret files', () => {
  it('accepts a key file other users may read (a mounted secret, 0444/0644) and trims ONE trailing newline', async () => {
    for (const [mode, ending] of [
      [0o444, '\n'],
      [0o644, '\r\n'],
      [0o600, ''],
    ] as const) {
      const md5File = file(`own-md5-${mode.toString(8)}.key`, `${OWN.md5Key}${ending}`, mode)
      const { config: c } = await config({ ...ownEnv, ALIPAY_MD5_KEY: '', ALIPAY_MD5_KEY_FILE: md5File })
      expect((c.partners[0] as { md5Key: string }).md5Key).toBe(OWN.md5Key)
    }
    const pemFile = file('own-private.pem', ownRsa.privateKey, 0o644)
    const gatewayFile = file('alipay-public.pem', alipayRsa.publicKey, 0o444)
    const { config: c } = await config({
      ...ownEnv,
      ALIPAY_SIGN_TYPE: 'RSA2',
      ALIPAY_PRIVATE_KEY_FILE: pemFile,
      ALIPAY_GATEWAY_PUBLIC_KEY_FILE: gatewayFile,
    })
    expect(c.partners[0]).toMatchObject({ privateKey: ownRsa.privateKey.replace(/\n$/, ''), signType: 'RSA2' })
    // Only one newline goes: two mean a key of 33 characters, refused as such.
    const twice = file('own-md5-twice.key', `${OWN.md5Key}\n\n`)
    expect(await problems({ ...ownEnv, ALIPAY_MD5_KEY: '', ALIPAY_MD5_KEY_FILE: twice })).toEqual([
      'ALIPAY_MD5_KEY_FILE: must be 32 letters or digits',
    ])
  })

  it('refuses a key file, partners file or config file that other users may write', async () => {
    const md5File = file('writable-md5.key', OWN.md5Key, 0o666)
    const pemFile = file('writable-gateway.pem', alipayRsa.publicKey, 0o620)
    const partnersFile = file('writable-partners.json', JSON.stringify({ partners: [] }), 0o602)
    const configFile = file('writable-app.json', JSON.stringify({ gatewayUrl: REAL }), 0o646)
    const lines = await problems(
      {
        ...ownEnv,
        ALIPAY_MD5_KEY: '',
        ALIPAY_MD5_KEY_FILE: md5File,
        ALIPAY_GATEWAY_PUBLIC_KEY_FILE: pemFile,
        ALIPAY_PARTNERS_FILE: partnersFile,
      },
      ['--config', configFile],
    )
    const refusal = (path: string, mode: string) =>
      `${path} is writable by other users (mode ${mode}); run: chmod 600 ${path} (whoever can write a key file can swap the key)`
    expect(lines).toEqual([
      `--config: ${refusal(configFile, '646')}`,
      `ALIPAY_PARTNERS_FILE: ${refusal(partnersFile, '602')}`,
      `ALIPAY_MD5_KEY_FILE: ${refusal(md5File, '666')}`,
      `ALIPAY_GATEWAY_PUBLIC_KEY_FILE: ${refusal(pemFile, '620')}`,
    ])
    expect(await problems({ ...ownEnv, ALIPAY_MD5_KEY: '', ALIPAY_MD5_KEY_FILE: join(dir, 'missing.key') })).toEqual([
      expect.stringMatching(/^ALIPAY_MD5_KEY_FILE: cannot read .*missing\.key: ENOENT/),
    ])
  })
})
