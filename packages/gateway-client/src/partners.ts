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
import { GatewayError } from './gateway-error.js'
import { loadOpenapiCertificates, type OpenapiCertificates } from './openapi-cert.js'

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
  /** openapi: Alipay's public key (verifies notifications, returns and replies); openapi-protocol §2 names it. */
  publicKey?: string | undefined
  /**
   * openapi certificate mode (openapi-protocol §3.6), instead of `publicKey`: Alipay's public key
   * certificate, the app's public key certificate and Alipay's root certificates, each a path to
   * the `.crt` file or its PEM text. All three or none.
   */
  alipayCertPath?: string | undefined
  appCertPath?: string | undefined
  rootCertPath?: string | undefined
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
   * Origins the relay may forward this partner's notifies to, besides `allowedOrigins` (a shop
   * whose notify endpoint is on another host). A signed `notify_url` anywhere else is refused.
   */
  notifyOrigins?: string[] | undefined
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
  /** Where notifies may be forwarded: `allowedOrigins` plus the configured `notifyOrigins`. */
  readonly notifyOrigins: readonly string[]
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
  /** openapi certificate mode: the partner's certificates (their SNs, Alipay's current key); else undefined. */
  gatewayCertificates(partner: string): OpenapiCertificates | undefined
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
  alipayCertPath: v.optional(v.pipe(v.string(), v.minLength(1))),
  appCertPath: v.optional(v.pipe(v.string(), v.minLength(1))),
  rootCertPath: v.optional(v.pipe(v.string(), v.minLength(1))),
  partner: v.pipe(v.string(), v.regex(ALIPAY_USER_ID, 'must be 2088 followed by 12 digits')),
  sellerId: v.optional(v.pipe(v.string(), v.regex(ALIPAY_USER_ID, 'must be 2088 followed by 12 digits'))),
  md5Key: v.optional(v.pipe(v.string(), v.regex(/^[0-9A-Za-z]{32}$/, 'must be 32 letters or digits'))),
  privateKey: v.optional(v.string()),
  gatewayPublicKey: v.optional(v.string()),
  merchantPublicKey: v.optional(v.string()),
  signType: v.optional(v.picklist(['MD5', 'RSA', 'RSA2'])),
  allowedOrigins: v.pipe(v.array(OriginSchema), v.minLength(1, 'needs at least one merchant origin')),
  notifyOrigins: v.optional(v.array(OriginSchema)),
  gatewayUrl: v.optional(GatewayUrlSchema),
})

/** One problem of one partner entry, as `findPartnerIssues` reports it. */
export interface PartnerIssue {
  /** Index of the entry in the configs given. */
  index: number
  /** The field at fault as a key path (`["md5Key"]`, `["allowedOrigins", 1]`); empty for the entry as a whole. */
  path: readonly (string | number)[]
  /** What is wrong, without naming the partner or the field: `must be 32 letters or digits`. Never the key. */
  problem: string
  /** The same as one line naming the partner and the field: what `createPartnerRegistry` throws. */
  message: string
}

const PARTNER_FIELDS = new Set(Object.keys(PartnerSchema.entries))

type Checked = { config: PartnerConfig; info: PartnerInfo; certificates?: OpenapiCertificates | undefined }

/**
 * Checks one entry completely (shape, the keys, that the keys fit the sign type) and reports every
 * problem, not only the first. A field whose shape is wrong is left out of the later checks.
 */
async function checkPartner(raw: unknown, index: number): Promise<{ issues: PartnerIssue[]; checked?: Checked }> {
  const issues: PartnerIssue[] = []
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const problem = 'must be an object like { "partner": "2088…", "md5Key": "…", "allowedOrigins": [...] }'
    return { issues: [{ index, path: [], problem, message: `partner #${index + 1} ${problem}` }] }
  }
  const parsed = v.safeParse(PartnerSchema, raw)
  const badFields = new Set<string>()
  if (!parsed.success) {
    for (const issue of parsed.issues) {
      const path = issue.path?.map((p) => p.key as string | number) ?? []
      const problem = issue.input === undefined && path.length > 0 ? 'is missing' : issue.message
      badFields.add(String(path[0] ?? ''))
      issues.push({ index, path, problem, message: `partner #${index + 1}: "${path.join('.') || '?'}" ${problem}` })
    }
  }
  // Only the fields that passed go on to the checks of meaning.
  const config = (
    parsed.success
      ? parsed.output
      : Object.fromEntries(Object.entries(raw).filter(([k]) => PARTNER_FIELDS.has(k) && !badFields.has(k)))
  ) as PartnerConfig
  const name = typeof config.partner === 'string' ? `partner ${config.partner}` : `partner #${index + 1}`
  const add = (field: keyof PartnerConfig, problem: string, message: string) => {
    if (!badFields.has(field)) issues.push({ index, path: [field], problem, message: `${name}: ${message}` })
  }
  // Without a valid kind, which keys it needs is unknown.
  if (badFields.has('kind')) return { issues }
  const kind: GatewayKind = config.kind ?? 'mapi'
  const certFields = ['alipayCertPath', 'appCertPath', 'rootCertPath'] as const
  const certMode = kind === 'openapi' && certFields.some((field) => config[field] !== undefined)
  let certificates: OpenapiCertificates | undefined
  if (certMode) {
    for (const field of certFields) {
      if (!config[field] && !badFields.has(field))
        add(field, 'is missing: certificate mode needs all three certificates', `certificate mode needs "${field}"`)
    }
    if (certFields.every((field) => config[field] && !badFields.has(field))) {
      try {
        certificates = loadOpenapiCertificates({
          alipayCert: config.alipayCertPath!,
          appCert: config.appCertPath!,
          rootCert: config.rootCertPath!,
        })
        // The gateway key is the one in Alipay's certificate.
        config.publicKey = certificates.publicKey
      } catch (error) {
        const reason = error instanceof ProtocolError || error instanceof GatewayError ? error.code : 'unusable'
        add(
          'alipayCertPath',
          `are not usable certificates (${reason}): Alipay's must chain to the root file`,
          `the certificates are not usable (${reason}): Alipay's certificate must chain to "rootCertPath"`,
        )
      }
    }
  }
  if (kind === 'openapi') {
    const needs = { appId: 'its app id', privateKey: "the app's private key", publicKey: "Alipay's public key" }
    for (const field of certMode
      ? (['appId', 'privateKey'] as const)
      : (['appId', 'privateKey', 'publicKey'] as const)) {
      if (!config[field])
        add(field, `is missing: an openapi partner needs ${needs[field]}`, `an openapi partner needs "${field}"`)
    }
    if (config.signType === 'MD5')
      add('signType', 'must be RSA2 or RSA: openapi does not sign with MD5', 'openapi signs with RSA2 or RSA, not MD5')
  }
  const checks: [keyof PartnerConfig, 'sign' | 'verify'][] = [
    ['privateKey', 'sign'],
    ['publicKey', 'verify'],
    ['gatewayPublicKey', 'verify'],
    ['merchantPublicKey', 'verify'],
  ]
  const usable = new Set<keyof PartnerConfig>()
  for (const [field, use] of checks) {
    const text = config[field]
    if (typeof text !== 'string') continue
    try {
      await assertKeyUsable(text, use)
      usable.add(field)
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.code : 'unusable'
      const what = `not a usable RSA ${use === 'sign' ? 'private' : 'public'} key (${reason})`
      add(
        field,
        `is ${what}: give PEM (PKCS#8, PKCS#1 or SPKI) or bare base64 DER`,
        `"${field}" is ${what}. Give PEM (PKCS#8, PKCS#1 or SPKI) or bare base64 DER.`,
      )
    }
  }
  if (kind === 'openapi' && !config.merchantPublicKey && config.privateKey && usable.has('privateKey')) {
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
  const md5KeyMissing = kind === 'mapi' && signType === 'MD5' && !config.md5Key && !badFields.has('signType')
  if (md5KeyMissing) add('md5Key', 'is missing: signType MD5 signs with the MD5 key', 'signType MD5 needs "md5Key"')
  if (signType !== 'MD5' && !config.privateKey && kind === 'mapi')
    add(
      'privateKey',
      `is missing: signType ${signType} signs with the RSA private key`,
      `signType ${signType} needs "privateKey"`,
    )
  if (kind === 'mapi' && signType !== 'MD5' && !config.gatewayPublicKey)
    add(
      'gatewayPublicKey',
      `is missing: signType ${signType} verifies the gateway with its RSA public key`,
      `signType ${signType} needs "gatewayPublicKey" to verify the gateway`,
    )
  const merchantSignTypes: SignType[] = []
  if (config.md5Key) merchantSignTypes.push('MD5')
  if (config.merchantPublicKey) merchantSignTypes.push('RSA', 'RSA2')
  // (An openapi partner's comes from its private key, and a missing MD5 key is refused above already.)
  const reported = (kind === 'openapi' && !usable.has('privateKey')) || md5KeyMissing
  if (merchantSignTypes.length === 0 && !reported && !badFields.has('md5Key') && !badFields.has('merchantPublicKey'))
    add(
      'merchantPublicKey',
      "is missing: without an MD5 key, the merchant's RSA public key verifies the merchant's sign",
      `needs "md5Key" or "merchantPublicKey" to verify the merchant's sign`,
    )
  if (issues.length > 0) return { issues }
  const info: PartnerInfo = Object.freeze({
    kind,
    partner: config.partner,
    ...(kind === 'openapi' ? { appId: config.appId } : {}),
    sellerId: config.sellerId ?? config.partner,
    signType,
    allowedOrigins: Object.freeze([...config.allowedOrigins]),
    notifyOrigins: Object.freeze([...new Set([...config.allowedOrigins, ...(config.notifyOrigins ?? [])])]),
    ...(config.gatewayUrl ? { gatewayUrl: config.gatewayUrl } : {}),
    merchantSignTypes: Object.freeze(merchantSignTypes),
  })
  return { issues, checked: { config, info, certificates } }
}

/**
 * Checks every entry as `createPartnerRegistry` does and reports every problem of every entry
 * (a start-up can then list them all at once). Empty when the registry would build.
 */
export async function findPartnerIssues(configs: readonly unknown[]): Promise<PartnerIssue[]> {
  return (await checkAll(configs)).issues
}

async function checkAll(configs: readonly unknown[]): Promise<{ issues: PartnerIssue[]; checked: Checked[] }> {
  const issues: PartnerIssue[] = []
  const checked: Checked[] = []
  const seen = new Set<string>()
  for (const [index, raw] of configs.entries()) {
    const result = await checkPartner(raw, index)
    issues.push(...result.issues)
    const partner = (raw as { partner?: unknown } | null)?.partner
    if (typeof partner === 'string' && seen.has(partner)) {
      issues.push({
        index,
        path: ['partner'],
        problem: `${partner} is configured twice`,
        message: `partner ${partner} is configured twice`,
      })
    } else if (typeof partner === 'string') seen.add(partner)
    if (result.checked) checked.push(result.checked)
  }
  return { issues, checked }
}

/**
 * Checks every partner (shape, and that each PEM imports) and builds the registry. Throws a
 * ConfigError naming the partner and the field (the first problem; `findPartnerIssues` lists them
 * all); key text never appears in a message.
 */
export async function createPartnerRegistry(configs: readonly unknown[]): Promise<PartnerRegistry> {
  const { issues, checked } = await checkAll(configs)
  const first = issues[0]
  if (first) throw new ConfigError(first.message)
  const entries = new Map<
    string,
    { info: PartnerInfo; secret: PartnerConfig; certificates?: OpenapiCertificates | undefined }
  >()
  for (const { config, info, certificates } of checked)
    entries.set(config.partner, { info, secret: config, certificates })
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
    gatewayCertificates: (partner) => entries.get(partner)?.certificates,
    merchantKeys(partner) {
      const s = must(partner)
      return { md5Key: s.md5Key, publicKey: s.merchantPublicKey }
    },
    bySellerId: (sellerId) => [...entries.values()].find((e) => e.info.sellerId === sellerId)?.info,
  }
}

/**
 * Why a file of configuration or key material may not be used, or undefined when it may: it must
 * exist, and no user but its owner may write it (whoever can write a key file can swap the key, or
 * the gateway's public key, and forge payments). Other users may read it: mounted secrets
 * (Docker, Kubernetes) are mode 0444 or 0644, owned by root. Windows has no such mode bits, so
 * the check is POSIX only.
 */
export function secretFileProblem(path: string): string | undefined {
  let mode: number
  try {
    mode = statSync(path).mode
  } catch (error) {
    return `cannot read ${path}: ${(error as Error).message}`
  }
  if (process.platform !== 'win32' && (mode & 0o022) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0')
    return `${path} is writable by other users (mode ${octal}); run: chmod 600 ${path} (whoever can write a key file can swap the key)`
  }
  return undefined
}

/**
 * Reads a file of key material or partner configuration, refusing one that other users may write
 * (`secretFileProblem`). Throws a ConfigError that names the file and `name`, never its content.
 */
export function readSecretFile(path: string, name: string): string {
  const problem = secretFileProblem(path)
  if (problem) throw new ConfigError(`${name}: ${problem}`)
  return readFileSync(path, 'utf8')
}

/**
 * Reads a key file (`ALIPAY_MD5_KEY_FILE`, `…_PRIVATE_KEY_FILE`, `…_PUBLIC_KEY_FILE`): a file of
 * secret material, less ONE trailing newline (`echo key > file` writes one; an MD5 key is 32
 * characters exactly).
 */
export function readKeyFile(path: string, name: string): string {
  return withoutTrailingNewline(readSecretFile(path, name))
}

const withoutTrailingNewline = (text: string) => text.replace(/\r?\n$/, '')

/** Where one partner config came from, to name it in messages. */
export type PartnerSourceOrigin =
  /** Entry `index` of the `partners` array of the file `ALIPAY_PARTNERS_FILE` names. */
  | { kind: 'file'; file: string; index: number }
  /** The environment: each field's variable (`md5Key` → `ALIPAY_MD5_KEY_FILE` when read from a file). */
  | { kind: 'env'; variables: Readonly<Partial<Record<keyof PartnerConfig, string>>> }

/** One partner config as read, with where it came from. */
export interface PartnerSource {
  config: unknown
  origin: PartnerSourceOrigin
}

/** A variable whose file could not be used: the variable, the problem, and the one-line message. */
export interface PartnerSourceProblem {
  variable: string
  problem: string
  message: string
}

/**
 * `readPartnerConfigs` with where each config came from, and every unreadable file as a problem
 * instead of a thrown error: the partners file's entries first, then the one partner of the
 * environment.
 */
export function readPartnerSources(env: Readonly<Record<string, string | undefined>>): {
  sources: PartnerSource[]
  problems: PartnerSourceProblem[]
} {
  const sources: PartnerSource[] = []
  const problems: PartnerSourceProblem[] = []
  const refuse = (variable: string, problem: string) =>
    problems.push({ variable, problem, message: `${variable}: ${problem}` })
  const file = env['ALIPAY_PARTNERS_FILE']
  if (file) {
    const problem = secretFileProblem(file)
    let text: string | undefined
    if (problem) refuse('ALIPAY_PARTNERS_FILE', problem)
    else {
      try {
        text = readFileSync(file, 'utf8')
      } catch (error) {
        refuse('ALIPAY_PARTNERS_FILE', `cannot read ${file}: ${(error as Error).message}`)
      }
    }
    if (text !== undefined) {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (error) {
        refuse('ALIPAY_PARTNERS_FILE', `${file} is not JSON: ${(error as Error).message}`)
      }
      const parsed = v.safeParse(v.object({ partners: v.array(v.unknown()) }), json)
      if (json !== undefined && !parsed.success)
        refuse('ALIPAY_PARTNERS_FILE', `${file} must be { "partners": [ ... ] }`)
      if (parsed.success)
        parsed.output.partners.forEach((config, index) =>
          sources.push({ config, origin: { kind: 'file', file, index } }),
        )
    }
  }
  const variables: Partial<Record<keyof PartnerConfig, string>> = {}
  const fromEnvOrFile = (field: keyof PartnerConfig, name: string) => {
    const path = env[`${name}_FILE`]
    if (path) {
      variables[field] = `${name}_FILE`
      const problem = secretFileProblem(path)
      if (problem) {
        refuse(`${name}_FILE`, problem)
        return undefined
      }
      try {
        return withoutTrailingNewline(readFileSync(path, 'utf8'))
      } catch (error) {
        refuse(`${name}_FILE`, `cannot read ${path}: ${(error as Error).message}`)
        return undefined
      }
    }
    variables[field] = name
    return env[name] || undefined
  }
  const origins = (env['ALIPAY_ALLOWED_ORIGINS'] ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
  variables.allowedOrigins = 'ALIPAY_ALLOWED_ORIGINS'
  const appId = env['ALIPAY_APP_ID']
  if (env['ALIPAY_GATEWAY_KIND'] === 'openapi' && appId) {
    // The openapi names of decision 0003 (openapi-protocol §2); the partner is the name merchants sign with
    // (the app's merchant id).
    const sellerVariable =
      env['ALIPAY_APP_SELLER_ID'] || !env['ALIPAY_SELLER_ID'] ? 'ALIPAY_APP_SELLER_ID' : 'ALIPAY_SELLER_ID'
    const sellerId = env[sellerVariable] || undefined
    Object.assign(variables, {
      kind: 'ALIPAY_GATEWAY_KIND',
      partner: env['ALIPAY_PARTNER'] ? 'ALIPAY_PARTNER' : sellerVariable,
      sellerId: sellerVariable,
      appId: 'ALIPAY_APP_ID',
      signType: 'ALIPAY_APP_SIGN_TYPE',
      alipayCertPath: 'ALIPAY_PUBLIC_CERT_PATH',
      appCertPath: 'ALIPAY_APP_CERT_PATH',
      rootCertPath: 'ALIPAY_ROOT_CERT_PATH',
    })
    const config = {
      kind: 'openapi',
      partner: env['ALIPAY_PARTNER'] || sellerId,
      sellerId,
      appId,
      privateKey: fromEnvOrFile('privateKey', 'ALIPAY_APP_PRIVATE_KEY'),
      publicKey: fromEnvOrFile('publicKey', 'ALIPAY_PUBLIC_KEY'),
      // Certificate mode instead of ALIPAY_PUBLIC_KEY: each a path or PEM text (certificates are public).
      alipayCertPath: env['ALIPAY_PUBLIC_CERT_PATH'] || undefined,
      appCertPath: env['ALIPAY_APP_CERT_PATH'] || undefined,
      rootCertPath: env['ALIPAY_ROOT_CERT_PATH'] || undefined,
      merchantPublicKey: fromEnvOrFile('merchantPublicKey', 'ALIPAY_MERCHANT_PUBLIC_KEY'),
      signType: env['ALIPAY_APP_SIGN_TYPE'] || undefined,
      allowedOrigins: origins,
    }
    sources.push({ config, origin: { kind: 'env', variables } })
    return { sources, problems }
  }
  const partner = env['ALIPAY_PARTNER']
  if (partner) {
    Object.assign(variables, { partner: 'ALIPAY_PARTNER', sellerId: 'ALIPAY_SELLER_ID', signType: 'ALIPAY_SIGN_TYPE' })
    const config = {
      partner,
      sellerId: env['ALIPAY_SELLER_ID'] || undefined,
      md5Key: fromEnvOrFile('md5Key', 'ALIPAY_MD5_KEY'),
      privateKey: fromEnvOrFile('privateKey', 'ALIPAY_PRIVATE_KEY'),
      gatewayPublicKey: fromEnvOrFile('gatewayPublicKey', 'ALIPAY_GATEWAY_PUBLIC_KEY'),
      merchantPublicKey: fromEnvOrFile('merchantPublicKey', 'ALIPAY_MERCHANT_PUBLIC_KEY'),
      signType: env['ALIPAY_SIGN_TYPE'] || undefined,
      allowedOrigins: origins,
    }
    sources.push({ config, origin: { kind: 'env', variables } })
  }
  return { sources, problems }
}

/**
 * Reads partner configs: the JSON file named by `ALIPAY_PARTNERS_FILE` (`{ "partners": [...] }`),
 * then one partner from `ALIPAY_PARTNER`, `ALIPAY_MD5_KEY`, `ALIPAY_PRIVATE_KEY(_FILE)`,
 * `ALIPAY_GATEWAY_PUBLIC_KEY(_FILE)`, `ALIPAY_MERCHANT_PUBLIC_KEY(_FILE)`, `ALIPAY_SELLER_ID`,
 * `ALIPAY_SIGN_TYPE`, `ALIPAY_ALLOWED_ORIGINS` (comma-separated). With `ALIPAY_GATEWAY_KIND=openapi`
 * the one partner is an openapi app instead: `ALIPAY_APP_ID`, `ALIPAY_APP_PRIVATE_KEY(_FILE)`,
 * `ALIPAY_PUBLIC_KEY(_FILE)` (Alipay's; or, in certificate mode, `ALIPAY_PUBLIC_CERT_PATH`,
 * `ALIPAY_APP_CERT_PATH` and `ALIPAY_ROOT_CERT_PATH`), `ALIPAY_PARTNER` or `ALIPAY_APP_SELLER_ID` (the name merchants
 * sign with), optional `ALIPAY_APP_SIGN_TYPE`. Empty when nothing is set. Files others may write
 * are refused (`readSecretFile`); key files lose one trailing newline. Throws a ConfigError for the
 * first unusable file (`readPartnerSources` reports them all).
 */
export function readPartnerConfigs(env: Readonly<Record<string, string | undefined>>): unknown[] {
  const { sources, problems } = readPartnerSources(env)
  const first = problems[0]
  if (first) throw new ConfigError(first.message)
  return sources.map((source) => source.config)
}
