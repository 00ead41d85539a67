import * as v from 'valibot'
import {
  NOTIFY_RETRY_GAPS_SECONDS,
  RETURN_NOTIFY_ID_LIFETIME_SECONDS,
  type TradeStatus,
} from '@alipay-payment-handler/protocol'
import { SANDBOX_ALIPAY_CERT, SANDBOX_APP_CERT, SANDBOX_ROOT_CERT } from './demo-certs.js'
import {
  DEMO_APP,
  DEMO_CERT_APP,
  DEMO_BUYER,
  DEMO_GATEWAY_RSA,
  DEMO_MERCHANT_RSA,
  DEMO_PARTNER,
  DEMO_POOR_BUYER,
} from './demo-accounts.js'
import { type Faults, FaultsSchema } from './faults.js'

/** One merchant profile: what the real gateway knows about a partner. */
export interface PartnerProfile {
  /** Partner id, `2088` + 12 digits. */
  partner: string
  /** MD5 "security check key"; without it MD5 requests get ILLEGAL_SECURITY_PROFILE. */
  md5Key?: string | undefined
  /** The merchant RSA public key (PEM or bare base64); without it RSA requests get HAS_NO_PUBLICKEY. */
  rsaPublicKey?: string | undefined
  /** The seller's login shown in the cashier and sent as `seller_email`. */
  sellerEmail?: string | undefined
  /** Extra seller ids this partner may collect for (besides itself). */
  sellerIds?: readonly string[] | undefined
  /** Contracted services; undefined means every service the sandbox implements. */
  services?: readonly string[] | undefined
  /** "Advanced instant pay": paid trades are TRADE_SUCCESS (refundable) rather than TRADE_FINISHED. Default true. */
  refundable?: boolean | undefined
  /** Refund period after payment, in seconds before scaling; then TRADE_SUCCESS → TRADE_FINISHED. Default 90 days. */
  refundWindowSeconds?: number | undefined
  /** Whether `it_b_pay` is activated; if not, it gives SELF_TIMEOUT_NOT_SUPPORT. Default true. */
  itBPay?: boolean | undefined
  /** Whether an API refund also sends a trade_status_sync notify (mapi-protocol §10.3, unknown in reality). Default true. */
  refundTradeStatusSync?: boolean | undefined
}

/** Products of the openapi mode, each with its own default notify table (openapi-protocol §6.3). */
export type OpenapiProduct = 'page' | 'wap' | 'precreate'

/** One openapi application: what Alipay's current gateway knows about an app_id (openapi-protocol §10.1). */
export interface OpenapiApp {
  /** Application id (16 digits in every example seen). */
  appId: string
  /** The app public key (PEM or bare base64) that verifies its requests. */
  publicKey: string
  /** The app's signing algorithm; requests must use it and the gateway signs with it. Default RSA2. */
  signType?: 'RSA2' | 'RSA' | undefined
  /** The seller (`2088` + 12 digits) the app collects for. */
  sellerId: string
  /** Sent as `seller_email` in notifications when set. */
  sellerEmail?: string | undefined
  /** Which trade statuses each product notifies; default openapi-protocol §6.3. */
  notifyStatuses?: Partial<Record<OpenapiProduct, readonly TradeStatus[]>> | undefined
  /**
   * The app's public key certificate (PEM): puts the app in certificate mode (cert-mode.ts), once
   * `alipayCertificates` is configured too. Its key then verifies the app's requests.
   */
  appCert?: string | undefined
}

/** A test buyer who can log in to the cashier. */
export interface TestBuyer {
  login: string
  password: string
  userId: string
  /** Starting balance, a decimal string in yuan. */
  balance: string
}

/** Everything the sandbox needs. Only `partners`, `gatewayKeys` and `buyers` are required. */
export interface SandboxConfig {
  /** TCP port; 0 picks a free one. Default 4300. */
  port?: number | undefined
  /** Interface to bind. Default 127.0.0.1. */
  hostname?: string | undefined
  /** SQLite file; default ':memory:' (the CLI defaults to .data/sandbox.db). */
  dbPath?: string | undefined
  /** Multiplies every gateway delay: notify retry gaps, it_b_pay expiry, refund window. Default 1. */
  timeScale?: number | undefined
  /** Gaps between notify deliveries, in seconds before scaling. Default: the domestic schedule. */
  notifyRetryGapsSeconds?: readonly number[] | undefined
  /** How long one notify POST may take before it counts as failed, in ms. Default 15000. */
  notifyTimeoutMs?: number | undefined
  /**
   * Most notify POSTs in flight at once; the rest wait their turn without spending an attempt.
   * Default 32, so a storm does not time out a receiver that answers one by one.
   */
  notifyConcurrency?: number | undefined
  /** Lifetime of a return's notify_id, in (unscaled) seconds. Default 60. */
  returnNotifyIdLifetimeSeconds?: number | undefined
  /** Largest request body or query string accepted, in bytes. Default 64 KiB. */
  maxBodyBytes?: number | undefined
  partners: readonly PartnerProfile[]
  /** The gateway's own RSA key pair: signs RSA/RSA2 returns, notifies and replies. */
  gatewayKeys: { privateKey: string; publicKey: string }
  buyers: readonly TestBuyer[]
  /** openapi applications (requests with `app_id` + `method`); none by default. */
  apps?: readonly OpenapiApp[] | undefined
  /**
   * Certificate mode's gateway side: the root file the apps name, and Alipay's public key
   * certificates with their private keys; the last one signs (a newer one is a renewal).
   */
  alipayCertificates?: { rootCert: string; certs: readonly { cert: string; privateKey: string }[] } | undefined
  /** openapi `timestamp` tolerance against sandbox time, in seconds; 0 turns the check off. Default 900. */
  openapiTimestampToleranceSeconds?: number | undefined
  /** Faults active from the start (see faults.ts); changeable at runtime via /_sandbox/faults. */
  faults?: Partial<Faults> | undefined
  /** Where diagnostics go. Default: console.error. */
  log?: ((line: string) => void) | undefined
}

/** A config with every default filled in. */
export type ResolvedConfig = Required<Omit<SandboxConfig, 'faults' | 'log' | 'alipayCertificates'>> & {
  alipayCertificates: SandboxConfig['alipayCertificates']
  faults: Partial<Faults>
  log: (line: string) => void
}

const AMOUNT = v.pipe(v.string(), v.regex(/^\d{1,9}(\.\d{1,2})?$/))
const PEM = v.pipe(v.string(), v.minLength(64))

const PartnerSchema = v.object({
  partner: v.pipe(v.string(), v.regex(/^2088\d{12}$/)),
  md5Key: v.optional(v.pipe(v.string(), v.minLength(1))),
  rsaPublicKey: v.optional(PEM),
  sellerEmail: v.optional(v.string()),
  sellerIds: v.optional(v.array(v.pipe(v.string(), v.regex(/^2088\d{12}$/)))),
  services: v.optional(v.array(v.string())),
  refundable: v.optional(v.boolean()),
  refundWindowSeconds: v.optional(v.pipe(v.number(), v.minValue(0))),
  itBPay: v.optional(v.boolean()),
  refundTradeStatusSync: v.optional(v.boolean()),
})

const ConfigSchema = v.object({
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))),
  hostname: v.optional(v.string()),
  dbPath: v.optional(v.string()),
  timeScale: v.optional(v.pipe(v.number(), v.gtValue(0))),
  notifyRetryGapsSeconds: v.optional(v.array(v.pipe(v.number(), v.minValue(0)))),
  notifyTimeoutMs: v.optional(v.pipe(v.number(), v.gtValue(0))),
  notifyConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  returnNotifyIdLifetimeSeconds: v.optional(v.pipe(v.number(), v.gtValue(0))),
  maxBodyBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
  partners: v.pipe(v.array(PartnerSchema), v.minLength(1)),
  gatewayKeys: v.object({ privateKey: PEM, publicKey: PEM }),
  buyers: v.array(
    v.object({
      login: v.pipe(v.string(), v.minLength(1)),
      password: v.string(),
      userId: v.pipe(v.string(), v.regex(/^2088\d{12}$/)),
      balance: AMOUNT,
    }),
  ),
  apps: v.optional(
    v.array(
      v.object({
        appId: v.pipe(v.string(), v.regex(/^\d{8,32}$/)),
        publicKey: PEM,
        signType: v.optional(v.picklist(['RSA2', 'RSA'])),
        sellerId: v.pipe(v.string(), v.regex(/^2088\d{12}$/)),
        sellerEmail: v.optional(v.string()),
        notifyStatuses: v.optional(v.record(v.picklist(['page', 'wap', 'precreate']), v.array(v.string()))),
        appCert: v.optional(PEM),
      }),
    ),
  ),
  alipayCertificates: v.optional(
    v.object({
      rootCert: PEM,
      certs: v.pipe(v.array(v.object({ cert: PEM, privateKey: PEM })), v.minLength(1)),
    }),
  ),
  openapiTimestampToleranceSeconds: v.optional(v.pipe(v.number(), v.minValue(0))),
  faults: v.optional(v.partial(FaultsSchema)),
})

/** Error thrown for an unusable config; `code` is stable. */
export class SandboxConfigError extends Error {
  override name = 'SandboxConfigError'
  readonly code = 'SANDBOX_CONFIG_INVALID'
}

/** Checks a config and fills in the defaults. Throws SandboxConfigError naming the bad field. */
export function resolveConfig(config: SandboxConfig): ResolvedConfig {
  const { log, ...checked } = config
  const result = v.safeParse(ConfigSchema, checked)
  if (!result.success) {
    const issue = result.issues[0]
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? 'config'
    throw new SandboxConfigError(`[alipay-sandbox] invalid config at "${path}": ${issue.message}`)
  }
  return {
    port: config.port ?? 4300,
    hostname: config.hostname ?? '127.0.0.1',
    dbPath: config.dbPath ?? ':memory:',
    timeScale: config.timeScale ?? 1,
    notifyRetryGapsSeconds: config.notifyRetryGapsSeconds ?? NOTIFY_RETRY_GAPS_SECONDS,
    notifyTimeoutMs: config.notifyTimeoutMs ?? 15_000,
    notifyConcurrency: config.notifyConcurrency ?? 32,
    returnNotifyIdLifetimeSeconds: config.returnNotifyIdLifetimeSeconds ?? RETURN_NOTIFY_ID_LIFETIME_SECONDS,
    maxBodyBytes: config.maxBodyBytes ?? 64 * 1024,
    partners: config.partners,
    gatewayKeys: config.gatewayKeys,
    buyers: config.buyers,
    apps: config.apps ?? [],
    alipayCertificates: config.alipayCertificates,
    openapiTimestampToleranceSeconds: config.openapiTimestampToleranceSeconds ?? 900,
    faults: config.faults ?? {},
    log: log ?? ((line) => console.error(line)),
  }
}

/**
 * The demo setup shared by `npm start` and the tests: DEMO_PARTNER (MD5 key and the merchant
 * RSA public key), the openapi DEMO_APP, DEMO_CERT_APP in certificate mode (demo-certs.ts), the
 * sandbox gateway key pair, DEMO_BUYER and DEMO_POOR_BUYER.
 */
export function demoSandboxConfig(overrides: Partial<SandboxConfig> = {}): SandboxConfig {
  return {
    partners: [
      {
        partner: DEMO_PARTNER.partner,
        md5Key: DEMO_PARTNER.md5Key,
        rsaPublicKey: DEMO_MERCHANT_RSA.publicKey,
        sellerEmail: DEMO_PARTNER.sellerEmail,
      },
    ],
    gatewayKeys: { privateKey: DEMO_GATEWAY_RSA.privateKey, publicKey: DEMO_GATEWAY_RSA.publicKey },
    apps: [
      {
        appId: DEMO_APP.appId,
        publicKey: DEMO_APP.publicKey,
        sellerId: DEMO_APP.sellerId,
        sellerEmail: DEMO_PARTNER.sellerEmail,
      },
      {
        appId: DEMO_CERT_APP.appId,
        publicKey: DEMO_APP.publicKey,
        appCert: SANDBOX_APP_CERT,
        sellerId: DEMO_CERT_APP.sellerId,
        sellerEmail: DEMO_PARTNER.sellerEmail,
      },
    ],
    alipayCertificates: {
      rootCert: SANDBOX_ROOT_CERT,
      certs: [{ cert: SANDBOX_ALIPAY_CERT, privateKey: DEMO_GATEWAY_RSA.privateKey }],
    },
    buyers: [
      {
        login: DEMO_BUYER.login,
        password: DEMO_BUYER.password,
        userId: DEMO_BUYER.userId,
        balance: DEMO_BUYER.balance,
      },
      {
        login: DEMO_POOR_BUYER.login,
        password: DEMO_POOR_BUYER.password,
        userId: DEMO_POOR_BUYER.userId,
        balance: DEMO_POOR_BUYER.balance,
      },
    ],
    ...overrides,
  }
}
