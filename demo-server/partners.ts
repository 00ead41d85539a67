import { readFileSync } from 'node:fs'
import * as v from 'valibot'
import { ALIPAY_USER_ID, ProtocolError, assertKeyUsable, type KeyRing, type SignType } from '../protocol/index'
import { SERVER_PREFIX } from './problem'

/** One partner's configuration as written in the config file or the environment. */
export interface PartnerConfig {
  partner: string
  /** Seller account the money goes to; defaults to `partner`. */
  sellerId?: string | undefined
  /** The partner's MD5 key: signs our requests and verifies the gateway and the merchant (MD5). */
  md5Key?: string | undefined
  /** The partner's RSA private key: signs our requests to the gateway (RSA/RSA2). */
  privateKey?: string | undefined
  /** The gateway's RSA public key: verifies returns, notifies and query replies. */
  gatewayPublicKey?: string | undefined
  /** The merchant's RSA public key: verifies an RSA-signed PaymentMethodSpecificData. */
  merchantPublicKey?: string | undefined
  /** Sign type of our outgoing requests; defaults to RSA when a private key is set, else MD5. */
  signType?: SignType | undefined
  /** Merchant page origins allowed to take payments for this partner, e.g. `http://localhost:4100`. */
  allowedOrigins: string[]
}

/** What the rest of the server may see of a partner: no key material. */
export interface PartnerInfo {
  readonly partner: string
  readonly sellerId: string
  readonly signType: SignType
  readonly allowedOrigins: readonly string[]
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

const PartnerSchema = v.object({
  partner: v.pipe(v.string(), v.regex(ALIPAY_USER_ID, 'must be 2088 followed by 12 digits')),
  sellerId: v.optional(v.pipe(v.string(), v.regex(ALIPAY_USER_ID, 'must be 2088 followed by 12 digits'))),
  md5Key: v.optional(v.pipe(v.string(), v.regex(/^[0-9A-Za-z]{32}$/, 'must be 32 letters or digits'))),
  privateKey: v.optional(v.string()),
  gatewayPublicKey: v.optional(v.string()),
  merchantPublicKey: v.optional(v.string()),
  signType: v.optional(v.picklist(['MD5', 'RSA', 'RSA2'])),
  allowedOrigins: v.pipe(v.array(OriginSchema), v.minLength(1, 'needs at least one merchant origin')),
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
    const checks: [keyof PartnerConfig, 'sign' | 'verify'][] = [
      ['privateKey', 'sign'],
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
    const signType: SignType = config.signType ?? (config.privateKey ? 'RSA' : 'MD5')
    if (signType === 'MD5' && !config.md5Key) throw new ConfigError(`${name}: signType MD5 needs "md5Key"`)
    if (signType !== 'MD5' && !config.privateKey)
      throw new ConfigError(`${name}: signType ${signType} needs "privateKey"`)
    if (signType !== 'MD5' && !config.gatewayPublicKey)
      throw new ConfigError(`${name}: signType ${signType} needs "gatewayPublicKey" to verify the gateway`)
    const merchantSignTypes: SignType[] = []
    if (config.md5Key) merchantSignTypes.push('MD5')
    if (config.merchantPublicKey) merchantSignTypes.push('RSA', 'RSA2')
    if (merchantSignTypes.length === 0)
      throw new ConfigError(`${name}: needs "md5Key" or "merchantPublicKey" to verify the merchant's sign`)
    const info: PartnerInfo = Object.freeze({
      partner: config.partner,
      sellerId: config.sellerId ?? config.partner,
      signType,
      allowedOrigins: Object.freeze([...config.allowedOrigins]),
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
      return { md5Key: s.md5Key, privateKey: s.privateKey, publicKey: s.gatewayPublicKey }
    },
    merchantKeys(partner) {
      const s = must(partner)
      return { md5Key: s.md5Key, publicKey: s.merchantPublicKey }
    },
    bySellerId: (sellerId) => [...entries.values()].find((e) => e.info.sellerId === sellerId)?.info,
  }
}

/**
 * Reads partner configs: the JSON file named by `ALIPAY_PARTNERS_FILE` (`{ "partners": [...] }`),
 * then one partner from `ALIPAY_PARTNER`, `ALIPAY_MD5_KEY`, `ALIPAY_PRIVATE_KEY(_FILE)`,
 * `ALIPAY_GATEWAY_PUBLIC_KEY(_FILE)`, `ALIPAY_MERCHANT_PUBLIC_KEY(_FILE)`, `ALIPAY_SELLER_ID`,
 * `ALIPAY_SIGN_TYPE`, `ALIPAY_ALLOWED_ORIGINS` (comma-separated). Empty when nothing is set.
 */
export function readPartnerConfigs(env: Readonly<Record<string, string | undefined>>): unknown[] {
  const configs: unknown[] = []
  const file = env['ALIPAY_PARTNERS_FILE']
  if (file) {
    let json: unknown
    try {
      json = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new ConfigError(`cannot read ALIPAY_PARTNERS_FILE ${file}: ${(error as Error).message}`)
    }
    const parsed = v.safeParse(v.object({ partners: v.array(v.unknown()) }), json)
    if (!parsed.success) throw new ConfigError(`${file} must be { "partners": [ ... ] }`)
    configs.push(...parsed.output.partners)
  }
  const partner = env['ALIPAY_PARTNER']
  if (partner) {
    const fromEnvOrFile = (name: string) => {
      const path = env[`${name}_FILE`]
      if (path) return readFileSync(path, 'utf8')
      return env[name] || undefined
    }
    configs.push({
      partner,
      sellerId: env['ALIPAY_SELLER_ID'] || undefined,
      md5Key: fromEnvOrFile('ALIPAY_MD5_KEY'),
      privateKey: fromEnvOrFile('ALIPAY_PRIVATE_KEY'),
      gatewayPublicKey: fromEnvOrFile('ALIPAY_GATEWAY_PUBLIC_KEY'),
      merchantPublicKey: fromEnvOrFile('ALIPAY_MERCHANT_PUBLIC_KEY'),
      signType: env['ALIPAY_SIGN_TYPE'] || undefined,
      allowedOrigins: (env['ALIPAY_ALLOWED_ORIGINS'] ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    })
  }
  return configs
}
