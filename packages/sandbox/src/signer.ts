import { signParams, signString, type KeyRing, type Params, type SignType } from '@alipay-payment-handler/protocol'
import type { PartnerProfile, ResolvedConfig } from './config.js'
import { DEMO_MERCHANT_RSA } from './demo-accounts.js'
import type { FaultBoard, SignedOutput } from './faults.js'

// The wrong-key fault signs with keys that are valid but not the gateway's: a merchant that
// verifies against the wrong material must fail exactly as it would with a forged message.
const WRONG_KEYS: KeyRing = { md5Key: 'wrong0key0for0fault0injection000', privateKey: DEMO_MERCHANT_RSA.privateKey }

/**
 * Signs what the gateway sends: returns, notifies and XML replies, with the sign_type of the
 * originating request (MD5 with the partner key, RSA/RSA2 with the gateway's private key; mapi-protocol §4.6).
 */
export class GatewaySigner {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly faults: FaultBoard,
  ) {}

  #keys(partner: PartnerProfile | undefined, output: SignedOutput): KeyRing {
    if (this.faults.wrongKeyFor(output)) return WRONG_KEYS
    return { md5Key: partner?.md5Key, privateKey: this.config.gatewayKeys.privateKey }
  }

  /** Returns `params` with sign_type and sign. */
  sign(params: Params, partner: PartnerProfile | undefined, signType: string, charset: string, output: SignedOutput) {
    return signParams(params, { signType: signType as SignType, keys: this.#keys(partner, output), charset })
  }

  /** Signs a string to sign (the query reply's `<trade>` children). */
  signText(text: string, partner: PartnerProfile | undefined, signType: string, charset: string) {
    return signString(text, signType as SignType, this.#keys(partner, 'reply'), charset)
  }
}
