import { readFileSync } from 'node:fs'
import type { KeyRing, OpenapiSignType, SignType } from '@alipay-payment-handler/protocol'
import { createMapiClient } from './mapi-client.js'
import { createMapiGateway } from './mapi-gateway.js'
import { loadOpenapiCertificates, type OpenapiCertificates } from './openapi-cert.js'
import { createOpenapiClient } from './openapi-client.js'
import { createOpenapiGateway } from './openapi-gateway.js'
import type { PaymentGateway } from './payment-gateway.js'

/** Transport settings both gateways share. */
interface TransportOptions {
  /** The full `gateway.do` URL. */
  gatewayUrl: string
  fetch?: typeof fetch
  /** Per-call timeout of server-to-server calls. */
  timeoutMs?: number
}

/** mapi: partner, seller and keys (md5Key and/or privateKey to sign, publicKey = the gateway's). */
export interface MapiGatewayConfig extends TransportOptions {
  kind: 'mapi'
  partner: string
  sellerId?: string
  keys: KeyRing
  signType: SignType
}

/** openapi, named as in decision 0003 (openapi-protocol §2): appId, privateKey (the app's), publicKey (Alipay's). */
export interface OpenapiGatewayConfig extends TransportOptions {
  kind: 'openapi'
  appId: string
  privateKey: string
  publicKey: string
  signType?: OpenapiSignType
  /** Certificate mode (openapi-protocol §3.6): `loadOpenapiCertificates`; `publicKey` is then unused. */
  certificates?: OpenapiCertificates
  /** The seller account trades must name (`2088…`); unchecked when absent. */
  sellerId?: string
  /**
   * The name the payment app's signing server knows this app by, for PaymentMethodSpecificData
   * (`partner`; the app's merchant id `2088…` or an alias). Defaults to `sellerId`; without
   * either, paymentData is NOT_SUPPORTED_BY_GATEWAY.
   */
  partner?: string
}

/** Which gateway the order service talks to: the one switch between mapi and openapi. */
export type GatewayConfig = MapiGatewayConfig | OpenapiGatewayConfig

/** Builds the configured gateway. */
export function createPaymentGateway(config: GatewayConfig): PaymentGateway {
  const transport = {
    gatewayUrl: config.gatewayUrl,
    ...(config.fetch ? { fetch: config.fetch } : {}),
    ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
  }
  if (config.kind === 'openapi') {
    return createOpenapiGateway({
      client: createOpenapiClient({
        ...transport,
        appId: config.appId,
        privateKey: config.privateKey,
        publicKey: config.publicKey,
        ...(config.signType ? { signType: config.signType } : {}),
        ...(config.certificates ? { certificates: config.certificates } : {}),
      }),
      sellerId: config.sellerId,
      ...(config.fetch ? { fetch: config.fetch } : {}),
      ...((config.partner ?? config.sellerId)
        ? {
            methodData: {
              partner: config.partner ?? config.sellerId ?? '',
              privateKey: config.privateKey,
              ...(config.signType ? { signType: config.signType } : {}),
            },
          }
        : {}),
    })
  }
  const sellerId = config.sellerId ?? config.partner
  return createMapiGateway({
    client: createMapiClient({
      ...transport,
      partner: config.partner,
      sellerId,
      keys: config.keys,
      signType: config.signType,
    }),
    partner: config.partner,
    sellerId,
    keys: config.keys,
    signType: config.signType,
  })
}

/**
 * The openapi app from the environment, named as in decision 0003 (openapi-protocol §2): `ALIPAY_APP_ID`,
 * `ALIPAY_APP_PRIVATE_KEY(_FILE)` (the app's private key), `ALIPAY_PUBLIC_KEY(_FILE)` (Alipay's
 * public key), optional `ALIPAY_APP_SELLER_ID` and `ALIPAY_APP_SIGN_TYPE`. Undefined without an app id.
 */
export function readOpenapiConfig(
  env: Readonly<Record<string, string | undefined>>,
  gatewayUrl: string,
): OpenapiGatewayConfig | undefined {
  const appId = env['ALIPAY_APP_ID']
  if (!appId) return undefined
  const fromEnvOrFile = (name: string) => {
    const path = env[`${name}_FILE`]
    const value = path ? readFileSync(path, 'utf8') : env[name]
    if (!value) throw new TypeError(`[alipay-server] ALIPAY_APP_ID is set, so ${name} (or ${name}_FILE) is needed too`)
    return value
  }
  const signType = env['ALIPAY_APP_SIGN_TYPE']
  // Certificate mode: ALIPAY_PUBLIC_CERT_PATH, ALIPAY_APP_CERT_PATH, ALIPAY_ROOT_CERT_PATH (paths or PEM text).
  const certFiles = [env['ALIPAY_PUBLIC_CERT_PATH'], env['ALIPAY_APP_CERT_PATH'], env['ALIPAY_ROOT_CERT_PATH']]
  if (certFiles.some(Boolean) && !certFiles.every(Boolean))
    throw new TypeError(
      '[alipay-server] certificate mode needs ALIPAY_PUBLIC_CERT_PATH, ALIPAY_APP_CERT_PATH and ALIPAY_ROOT_CERT_PATH',
    )
  const certificates = certFiles.every(Boolean)
    ? loadOpenapiCertificates({ alipayCert: certFiles[0]!, appCert: certFiles[1]!, rootCert: certFiles[2]! })
    : undefined
  return {
    kind: 'openapi',
    gatewayUrl,
    appId,
    privateKey: fromEnvOrFile('ALIPAY_APP_PRIVATE_KEY'),
    publicKey: certificates ? certificates.publicKey : fromEnvOrFile('ALIPAY_PUBLIC_KEY'),
    ...(certificates ? { certificates } : {}),
    ...(signType === 'RSA' || signType === 'RSA2' ? { signType } : {}),
    ...(env['ALIPAY_APP_SELLER_ID'] ? { sellerId: env['ALIPAY_APP_SELLER_ID'] } : {}),
  }
}
