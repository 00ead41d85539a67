import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import * as v from 'valibot'
import {
  ALIPAY_USER_ID,
  ProtocolError,
  assertKeyUsable,
  readKey,
  type KeyRing,
  type SignType,
} from '@alipay-payment-handler/protocol'
import { SERVER_PREFIX } from '@alipay-payment-handler/server-runtime'

/** Which gateway a partner's payments go through (docs/decisions/0003). */
export type GatewayKind = 'mapi' | 'openapi'

/** One partner's configuration as written in the config file or the environment. */
export interface PartnerConfig {
  /** `mapi` (default) or `openapi`. An openapi partner needs `appId`, `privateKey` and `publicKey`. */
  kind?: GatewayKind | undefined
  /**
   * The name merchants put in the method data's `partner`: the mapi partner id, or for openapi the
   * app's merchant id (`2088…`, often the seller) or any alias of that form you choose.
   */
  partner: string
  /** openapi: the app's `app_id`. */
  appId?: string | undefined
  /** openapi: Alipay's public key (verifies notifications, returns and replies); openapi §2 names it. */
  publicKey?: string | undefined
  /** Seller account the money goes to; defaults to `partner`. */
  sellerId?: string | undefined
  /** The partner's MD5 key: signs our requests and verifies the gateway and the merchant (MD5). */
  md5Key?: string | undefined
  /** The partner's RSA private key (openapi: the app's): signs our requests to the gateway (RSA/RSA2). */
  privateKey?: string | undefined
  /** The gateway's RSA public key: verifies returns, notifies and query replies. */
  gatewayPublicKey?: string | undefined
  /**
   * The merchant's RSA public key: verifies an RSA-signed PaymentMethodSpecificData. openapi: defaults
   * to the public half of the app's `privateKey`, so a merchant signs its data with the app key.
   */
  merchantPublicKey?: string | undefined
  /** Sign type of our outgoing requests; defaults to RSA when a private key is set, else MD5. */
  signType?: SignType | undefined
  /** Merchant page origins allowed to take payments for this partner, e.g. `http://localhost:4100`. */
  allowedOrigins: string[]
  /**
   * This partner's `gateway.do`, when it is not the server's: the real gateways are two hosts
   * (`https://mapi.alipay.com/gateway.do`, `https://openapi.alipay.com/gateway.do`).
   */
  gatewayUrl?: string | undefined
}

/** What the rest of the server may see of a partner: no key material. */
export interface PartnerInfo {
  readonly kind: GatewayKind
  readonly partner: string
  /** openapi only. */
  readonly appId?: string | undefined
  readonly sellerId: string
  readonly signType: SignType
  readonly allowedOrigins: readonly string[]
  /** The partner's own `gateway.do` URL; the server's when absent. */
  readonly gatewayUrl?: string | undefined
  /** Sign types an incoming merchant `sign` may use, given the keys we hold. */
  readonly merchantSignTypes: readonly SignType[]
}

/** The partners the server serves. Key material stays inside; only key rings come out. */
export interface PartnerRegistry {
  get(partner: string): PartnerInfo | undefined
  list(): readonly PartnerInfo[]
  /** Keys for talking to the gateway: ours to sign, the gateway's to verify. */
  gatewayKeys(partner: string): KeyRing
  /** Keys that verify the merchant's sign on the method data. */
  merchantKeys(partner: string): KeyRing
  /** The partner whose seller account is `sellerId`, if any. */
  bySellerId(sellerId: string): PartnerInfo | undefined
}

/** A configuration error at start-up: names the partner and the field, never the value. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  readonly code = 'CONFIG_INVALID'
  constructor(message: string) {
    super(`${SERVER_PREFIX} ${message}`)
  }
}

const OriginSchema = v.pipe(
  v.string(),
  v.check((value) => {
    try {
      return new URL(value).origin === value
    } catch {
      return false
    }
  }, 'must be an origin like "https://shop.example" (scheme, host, port; no path or trailing slash)'),
)

const GatewayUrlSchema = v.pipe(
  v.string(),
  v.check((value) => {
    try {
      const url = new URL(value)
      return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash
    } catch {
      return false
    }
  }, 'must be an http(s) URL like "https://openapi.alipay.com/gateway.do" (no query)'),
)

const PartnerSchema = v.object({
  kind: v.optional(v.picklist(['mapi', 'openapi'])),
  appId: v.optional(v.pipe(v.string(), v.regex(/^\d{16}$/, 'must be 16 digits'))),
  publicKey: v.optional(v.string()),
  partner: v.pipe(v.string(), v.regex(ALIPAY_USER_ID, 'must be 2088 followed by 12 digits')),
  sellerId: v.optional(v.pipe(v.string(), v.regex(ALIPAY_USER_ID, 'must be 2088 followed by 12 digits'))),
  md5Key: v.optional(v.pipe(v.string(), v.regex(/^[0-9A-Za-z]{32}$/, 'must be 32 letters or digits'))),
  privateKey: v.optional(v.string()),
  gatewayPublicKey: v.optional(v.string()),
  merchantPublicKey: v.optional(v.string()),
  signType: v.optional(v.picklist(['MD5', 'RSA', 'RSA2'])),
  allowedOrigins: v.pipe(v.array(OriginSchema), v.minLength(1, 'needs at least one merchant origin')),
  gatewayUrl: v.optional(GatewayUrlSchema),
})

/**
 * Checks every partner (shape, and that each PEM imports) and builds the registry. Throws a
 * ConfigError naming the partner and the field; key text never appears in a message.
 */
export async function createPartnerRegistry(configs: readonly unknown[]): Promise<PartnerRegistry> {
  const entries = new Map<string, { info: PartnerInfo; secret: PartnerConfig }>()
  for (const [index, raw] of configs.entries()) {
    const parsed = v.safeParse(PartnerSchema, raw)
    if (!parsed.success) {
      const issue = parsed.issues[0]
      const path = issue?.path?.map((p) => String(p.key)).join('.') ?? '?'
      throw new ConfigError(`partner #${index + 1}: "${path}" ${issue?.message ?? 'is invalid'}`)
    }
    const config = parsed.output
    const name = `partner ${config.partner}`
    if (entries.has(config.partner)) throw new ConfigError(`${name} is configured twice`)
    const kind: GatewayKind = config.kind ?? 'mapi'
    if (kind === 'openapi') {
      for (const field of ['appId', 'privateKey', 'publicKey'] as const) {
        if (!config[field]) throw new ConfigError(`${name}: an openapi partner needs "${field}"`)
      }
      if (config.signType === 'MD5') throw new ConfigError(`${name}: openapi signs with RSA2 or RSA, not MD5`)
    }
    const checks: [keyof PartnerConfig, 'sign' | 'verify'][] = [
      ['privateKey', 'sign'],
      ['publicKey', 'verify'],
      ['gatewayPublicKey', 'verify'],
      ['merchantPublicKey', 'verify'],
    ]
    for (const [field, use] of checks) {
      const text = config[field]
      if (typeof text !== 'string') continue
      try {
        await assertKeyUsable(text, use)
      } catch (error) {
        const reason = error instanceof ProtocolError ? error.code : 'unusable'
        throw new ConfigError(
          `${name}: "${field}" is not a usable RSA ${use === 'sign' ? 'private' : 'public'} key (${reason}). ` +
            'Give PEM (PKCS#8, PKCS#1 or SPKI) or bare base64 DER.',
        )
      }
    }
    if (kind === 'openapi' && !config.merchantPublicKey && config.privateKey) {
      // The merchant signs its method data with the app key (mapi string rule), so its public half verifies.
      const { der, kind: keyKind } = readKey(config.privateKey)
      config.merchantPublicKey = createPublicKey(
        createPrivateKey({
          key: Buffer.from(der),
          format: 'der',
          type: keyKind === 'pkcs1-private' ? 'pkcs1' : 'pkcs8',
        }),
      )
        .export({ type: 'spki', format: 'pem' })
        .toString()
    }
    const signType: SignType = config.signType ?? (kind === 'openapi' ? 'RSA2' : config.privateKey ? 'RSA' : 'MD5')
    if (signType === 'MD5' && !config.md5Key) throw new ConfigError(`${name}: signType MD5 needs "md5Key"`)
    if (signType !== 'MD5' && !config.privateKey)
      throw new ConfigError(`${name}: signType ${signType} needs "privateKey"`)
    if (kind === 'mapi' && signType !== 'MD5' && !config.gatewayPublicKey)
      throw new ConfigError(`${name}: signType ${signType} needs "gatewayPublicKey" to verify the gateway`)
    const merchantSignTypes: SignType[] = []
    if (config.md5Key) merchantSignTypes.push('MD5')
    if (config.merchantPublicKey) merchantSignTypes.push('RSA', 'RSA2')
    if (merchantSignTypes.length === 0)
      throw new ConfigError(`${name}: needs "md5Key" or "merchantPublicKey" to verify the merchant's sign`)
    const info: PartnerInfo = Object.freeze({
      kind,
      partner: config.partner,
      ...(kind === 'openapi' ? { appId: config.appId } : {}),
      sellerId: config.sellerId ?? config.partner,
      signType,
      allowedOrigins: Object.freeze([...config.allowedOrigins]),
      ...(config.gatewayUrl ? { gatewayUrl: config.gatewayUrl } : {}),
      merchantSignTypes: Object.freeze(merchantSignTypes),
    })
    entries.set(config.partner, { info, secret: config })
  }
  const must = (partner: string) => {
    const entry = entries.get(partner)
    if (!entry) throw new ConfigError(`partner ${partner} is not configured`)
    return entry.secret
  }
  return {
    get: (partner) => entries.get(partner)?.info,
    list: () => [...entries.values()].map((e) => e.info),
    gatewayKeys(partner) {
      const s = must(partner)
      const publicKey = (s.kind ?? 'mapi') === 'openapi' ? s.publicKey : s.gatewayPublicKey
      return { md5Key: s.md5Key, privateKey: s.privateKey, publicKey }
    },
    merchantKeys(partner) {
      const s = must(partner)
      return { md5Key: s.md5Key, publicKey: s.merchantPublicKey }
    },
    bySellerId: (sellerId) => [...entries.values()].find((e) => e.info.sellerId === sellerId)?.info,
  }
}

/**
 * Reads a file of secret key material, refusing one that other users may read (like ssh does with
 * private keys): a key at rest must be readable by the server's user only. Windows has no such
 * mode bits, so the check is POSIX only.
 */
export function readSecretFile(path: string, name: string): string {
  if (process.platform !== 'win32') {
    let mode: number
    try {
      mode = statSync(path).mode
    } catch (error) {
      throw new ConfigError(`cannot read ${name} ${path}: ${(error as Error).message}`)
    }
    if ((mode & 0o077) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(3, '0')
      throw new ConfigError(
        `${name} ${path} is readable by other users (mode ${octal}); run: chmod 600 ${path} (key material must be readable by the server's user only)`,
      )
    }
  }
  return readFileSync(path, 'utf8')
}

/**
 * Reads partner configs: the JSON file named by `ALIPAY_PARTNERS_FILE` (`{ "partners": [...] }`),
 * then one partner from `ALIPAY_PARTNER`, `ALIPAY_MD5_KEY`, `ALIPAY_PRIVATE_KEY(_FILE)`,
 * `ALIPAY_GATEWAY_PUBLIC_KEY(_FILE)`, `ALIPAY_MERCHANT_PUBLIC_KEY(_FILE)`, `ALIPAY_SELLER_ID`,
 * `ALIPAY_SIGN_TYPE`, `ALIPAY_ALLOWED_ORIGINS` (comma-separated). With `ALIPAY_GATEWAY_KIND=openapi`
 * the one partner is an openapi app instead: `ALIPAY_APP_ID`, `ALIPAY_APP_PRIVATE_KEY(_FILE)`,
 * `ALIPAY_PUBLIC_KEY(_FILE)` (Alipay's), `ALIPAY_PARTNER` or `ALIPAY_APP_SELLER_ID` (the name merchants
 * sign with), optional `ALIPAY_APP_SIGN_TYPE`. Empty when nothing is set.
 */
export function readPartnerConfigs(env: Readonly<Record<string, string | undefined>>): unknown[] {
  const configs: unknown[] = []
  const file = env['ALIPAY_PARTNERS_FILE']
  if (file) {
    let json: unknown
    try {
      json = JSON.parse(readSecretFile(file, 'ALIPAY_PARTNERS_FILE'))
    } catch (error) {
      if (error instanceof ConfigError) throw error
      throw new ConfigError(`cannot read ALIPAY_PARTNERS_FILE ${file}: ${(error as Error).message}`)
    }
    const parsed = v.safeParse(v.object({ partners: v.array(v.unknown()) }), json)
    if (!parsed.success) throw new ConfigError(`${file} must be { "partners": [ ... ] }`)
    configs.push(...parsed.output.partners)
  }
  const fromEnvOrFile = (name: string) => {
    const path = env[`${name}_FILE`]
    // Public keys may be world-readable; the MD5 key and the private keys may not.
    const secret = name === 'ALIPAY_MD5_KEY' || name === 'ALIPAY_PRIVATE_KEY' || name === 'ALIPAY_APP_PRIVATE_KEY'
    if (path) return secret ? readSecretFile(path, `${name}_FILE`) : readFileSync(path, 'utf8')
    return env[name] || undefined
  }
  const origins = (env['ALIPAY_ALLOWED_ORIGINS'] ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
  const appId = env['ALIPAY_APP_ID']
  if (env['ALIPAY_GATEWAY_KIND'] === 'openapi' && appId) {
    // The openapi names of decision 0003 (openapi §2); the partner is the name merchants sign with
    // (the app's merchant id).
    const sellerId = env['ALIPAY_APP_SELLER_ID'] || env['ALIPAY_SELLER_ID'] || undefined
    configs.push({
      kind: 'openapi',
      partner: env['ALIPAY_PARTNER'] || sellerId,
      sellerId,
      appId,
      privateKey: fromEnvOrFile('ALIPAY_APP_PRIVATE_KEY'),
      publicKey: fromEnvOrFile('ALIPAY_PUBLIC_KEY'),
      merchantPublicKey: fromEnvOrFile('ALIPAY_MERCHANT_PUBLIC_KEY'),
      signType: env['ALIPAY_APP_SIGN_TYPE'] || undefined,
      allowedOrigins: origins,
    })
    return configs
  }
  const partner = env['ALIPAY_PARTNER']
  if (partner) {
    configs.push({
      partner,
      sellerId: env['ALIPAY_SELLER_ID'] || undefined,
      md5Key: fromEnvOrFile('ALIPAY_MD5_KEY'),
      privateKey: fromEnvOrFile('ALIPAY_PRIVATE_KEY'),
      gatewayPublicKey: fromEnvOrFile('ALIPAY_GATEWAY_PUBLIC_KEY'),
      merchantPublicKey: fromEnvOrFile('ALIPAY_MERCHANT_PUBLIC_KEY'),
      signType: env['ALIPAY_SIGN_TYPE'] || undefined,
      allowedOrigins: origins,
    })
  }
  return configs
}
