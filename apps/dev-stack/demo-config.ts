import { DEMO_APP, DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import type { PartnerConfig } from '@alipay-payment-handler/gateway-client'

/**
 * The demo partner as the signing server sees it: the public TEST keys of sandbox/demo-accounts.ts.
 * Used when no partner is configured; never point it at the real gateway.
 */
export function demoPartnerConfig(overrides: Partial<PartnerConfig> = {}): PartnerConfig {
  return {
    partner: DEMO_PARTNER.partner,
    sellerId: DEMO_PARTNER.sellerId,
    md5Key: DEMO_PARTNER.md5Key,
    privateKey: DEMO_MERCHANT_RSA.privateKey,
    gatewayPublicKey: DEMO_GATEWAY_RSA.publicKey,
    merchantPublicKey: DEMO_MERCHANT_RSA.publicKey,
    signType: 'MD5',
    allowedOrigins: ['http://localhost:4100'],
    ...overrides,
  }
}

/**
 * The demo openapi app as a signing-server partner (public TEST keys of sandbox/demo-accounts.ts):
 * `partner` is the app's merchant id, the name the merchant's method data carries; the merchant
 * signs that data RSA2 with the app key, whose public half the registry derives.
 */
export function demoOpenapiPartnerConfig(overrides: Partial<PartnerConfig> = {}): PartnerConfig {
  return {
    kind: 'openapi',
    partner: DEMO_APP.sellerId,
    sellerId: DEMO_APP.sellerId,
    appId: DEMO_APP.appId,
    privateKey: DEMO_APP.privateKey,
    publicKey: DEMO_GATEWAY_RSA.publicKey,
    signType: 'RSA2',
    allowedOrigins: ['http://localhost:4100'],
    ...overrides,
  }
}
