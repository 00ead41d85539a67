import type { Params } from './form.js'
import { REQUIRED_RESPONSE_FIELDS } from './types.js'

/** The signed messages a receiver accepts, each with a shape of its own. */
export type MessageKind = 'mapi-notify' | 'openapi-notify' | 'mapi-response' | 'openapi-response' | 'session-revoke'

const MAPI_TRADE_NOTIFY = ['out_trade_no', 'trade_no', 'trade_status', 'total_fee'] as const
const MAPI_REFUND_NOTIFY = ['batch_no', 'result_details'] as const
const NOTIFY_COMMON = ['notify_id', 'notify_type', 'notify_time', 'sign', 'sign_type'] as const
const OPENAPI_NOTIFY = ['app_id', 'out_trade_no', 'trade_no', 'trade_status', 'total_amount'] as const
const MAPI_RESPONSE = ['out_trade_no', 'trade_no', 'trade_status', 'total_fee'] as const
const OPENAPI_RESPONSE = ['app_id', 'out_trade_no', 'trade_no', 'total_amount', 'sign', 'sign_type'] as const
const SESSION_REVOKE = ['service', 'partner', 'out_trade_no', 'timestamp', 'sign', 'sign_type'] as const

/**
 * The fields a message of `kind` lacks, in a fixed order; empty when its shape is complete.
 * Checked before the signature, so that a message signed for one purpose (the merchant's method
 * data, the payment app's pay request, a query reply) is never accepted as another: under MD5 the
 * merchant and the gateway share one key, so the signature alone cannot tell them apart
 * (mapi-protocol §6.1, mapi-protocol §7; openapi-protocol §6.1, openapi-protocol §7).
 */
export function missingFields(params: Readonly<Record<string, unknown>>, kind: MessageKind): string[] {
  const present = (name: string) => typeof params[name] === 'string' && params[name] !== ''
  const required = (() => {
    switch (kind) {
      case 'mapi-notify':
        return [
          ...NOTIFY_COMMON,
          ...(params['notify_type'] === 'batch_refund_notify' ? MAPI_REFUND_NOTIFY : MAPI_TRADE_NOTIFY),
        ]
      case 'openapi-notify':
        return [...NOTIFY_COMMON, ...OPENAPI_NOTIFY]
      case 'mapi-response':
        return [...REQUIRED_RESPONSE_FIELDS, ...MAPI_RESPONSE]
      case 'openapi-response':
        return [...OPENAPI_RESPONSE]
      case 'session-revoke':
        return [...SESSION_REVOKE]
    }
  })()
  return required.filter((name) => !present(name))
}

/**
 * Whether a verified signature proves by itself that the gateway wrote the message: only an RSA2
 * signature checked with the gateway's public key does. MD5 is a key the merchant holds too (one
 * leak forges anything), and RSA is SHA-1; messages signed so move money only after the gateway
 * confirmed the trade over the server's own channel (docs/security.md, "notify confirmation").
 */
export function signatureIsGatewayProof(params: Readonly<Params>): boolean {
  return params['sign_type'] === 'RSA2'
}
