import { DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from '../sandbox/demo-accounts'
import type { PartnerConfig } from './partners'

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
