import { readPartnerConfigs, type PartnerConfig } from '@alipay-payment-handler/gateway-client'
import { isPostgresUrl } from '@alipay-payment-handler/server-runtime'
import { DEFAULT_PORTS, type StackOptions } from './stack.js'

/** A setting `npm start` cannot use; its message is the one line printed. */
export class StartConfigError extends Error {
  override name = 'StartConfigError'
  readonly code = 'START_CONFIG_INVALID'
}

function port(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const text = env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new StartConfigError(`[alipay] ${name}=${text} is not a port number (1 to 65535).`)
  }
  return value
}

/**
 * Reads `npm start`'s settings from the environment. ALIPAY_GATEWAY_URL is the one switch to the
 * real gateway; the partner and its keys then come from the same ALIPAY_* variables the signing
 * server reads (ALIPAY_PARTNER, ALIPAY_MD5_KEY, ALIPAY_PRIVATE_KEY(_FILE), …, or ALIPAY_PARTNERS_FILE).
 */
export function readStartConfig(env: Readonly<Record<string, string | undefined>>): StackOptions {
  const ports = {
    merchant: port(env, 'MERCHANT_PORT', DEFAULT_PORTS.merchant),
    app: port(env, 'APP_PORT', DEFAULT_PORTS.app),
    gateway: port(env, 'GATEWAY_PORT', DEFAULT_PORTS.gateway),
  }
  const kind = env['ALIPAY_GATEWAY_KIND'] || 'mapi'
  if (kind !== 'mapi' && kind !== 'openapi') {
    throw new StartConfigError(`[alipay] ALIPAY_GATEWAY_KIND=${kind} is neither mapi nor openapi.`)
  }
  const options: StackOptions = {
    ...(kind === 'openapi' ? { gatewayKind: kind } : {}),
    ports,
    dataDir: env['DATA_DIR'] || '.data',
    merchantOrigin: env['MERCHANT_ORIGIN'] || undefined,
    appOrigin: env['APP_ORIGIN'] || undefined,
    operatorToken: env['MERCHANT_OPERATOR_TOKEN'] || undefined,
    orderViewSecret: env['MERCHANT_ORDER_VIEW_SECRET'] || undefined,
    // A postgres:// URL moves the payment app and the shop onto PostgreSQL; anything else keeps SQLite.
    ...(isPostgresUrl(env['DATABASE_URL']) ? { databaseUrl: env['DATABASE_URL'] } : {}),
  }
  const gatewayUrl = env['ALIPAY_GATEWAY_URL']
  if (!gatewayUrl) return options
  let parsed: URL
  try {
    parsed = new URL(gatewayUrl)
  } catch {
    throw new StartConfigError(
      `[alipay] ALIPAY_GATEWAY_URL=${gatewayUrl} is not a URL (e.g. https://mapi.alipay.com/gateway.do).`,
    )
  }
  const partners = readPartnerConfigs(env) as PartnerConfig[]
  const partner = partners[0]
  if (!partner && kind === 'openapi') {
    throw new StartConfigError(
      '[alipay] ALIPAY_GATEWAY_URL is set with ALIPAY_GATEWAY_KIND=openapi: also set ALIPAY_APP_ID, ' +
        'ALIPAY_APP_PRIVATE_KEY(_FILE), ALIPAY_PUBLIC_KEY(_FILE) and ALIPAY_APP_SELLER_ID. See the README.',
    )
  }
  if (!partner) {
    throw new StartConfigError(
      '[alipay] ALIPAY_GATEWAY_URL is set, so the sandbox is not used: also set ALIPAY_PARTNER and its keys ' +
        '(ALIPAY_MD5_KEY or ALIPAY_PRIVATE_KEY, and ALIPAY_GATEWAY_PUBLIC_KEY for RSA). See the README.',
    )
  }
  const merchantOrigin = options.merchantOrigin ?? `http://localhost:${ports.merchant}`
  // The merchant's own origin is always allowed to take payments for its partner.
  const allowedOrigins = [...new Set([...(partner.allowedOrigins ?? []), merchantOrigin])]
  return { ...options, real: { gatewayUrl: parsed.href, partner: { ...partner, allowedOrigins } } }
}
