import { DIAGNOSTIC_PREFIX } from './errors.js'
import type { CheckoutOutcome } from './messages.js'

/**
 * Why a Payment Request for `"alipay"` ended without a payment, as a stable code a merchant page
 * can branch on. A DOMException carries only a name and a message, so the reason travels at the
 * start of the message: `"[alipay] origin-not-allowed: …"`. `alipayFailureReason(error)` reads it
 * back. The list is documented in the polyfill's README; codes are only ever added.
 */
export const ALIPAY_FAILURE_REASONS = [
  // AbortError: the payment ended before it started, nothing was charged.
  'cancelled',
  'window-closed',
  'popup-blocked',
  'merchant-aborted',
  'page-left',
  'already-showing',
  'session-expired',
  // SecurityError, NotSupportedError, InvalidStateError: the spec's own checks.
  'user-activation-required',
  'not-supported',
  'invalid-state',
  // TypeError from the constructor, OperationError from the payment app.
  'method-data-invalid',
  // OperationError: the payment app refused or failed.
  'signature-invalid',
  'amount-mismatch',
  'origin-not-allowed',
  'order-already-paid',
  'session-rejected',
  'server-unreachable',
  'payment-failed',
  'payment-unconfirmed',
  'window-failed',
  'internal',
] as const

export type AlipayFailureReason = (typeof ALIPAY_FAILURE_REASONS)[number]

const KNOWN = new Set<string>(ALIPAY_FAILURE_REASONS)

/**
 * The reason for a failure code the payment app reports: the handler's own codes
 * (`INVALID_METHOD_DATA`) and the signing server's problem codes (`origin-not-allowed`) alike.
 */
const REASON_OF_CODE: Record<string, AlipayFailureReason> = {
  'invalid-method-data': 'method-data-invalid',
  'unsupported-service': 'method-data-invalid',
  'currency-not-supported': 'method-data-invalid',
  'amount-invalid': 'method-data-invalid',
  'notify-url-not-allowed': 'method-data-invalid',
  'invalid-signature': 'signature-invalid',
  'seller-mismatch': 'signature-invalid',
  'amount-mismatch': 'amount-mismatch',
  'origin-not-allowed': 'origin-not-allowed',
  'merchant-not-allowed': 'origin-not-allowed',
  'order-already-paid': 'order-already-paid',
  'order-paid': 'order-already-paid',
  'order-expired': 'session-expired',
  'session-closed': 'session-expired',
  'session-rejected': 'session-rejected',
  'unknown-partner': 'session-rejected',
  'server-unreachable': 'server-unreachable',
  'gateway-unavailable': 'server-unreachable',
  'gateway-error': 'server-unreachable',
  'payment-failed': 'payment-failed',
  'trade-closed': 'payment-failed',
  'unconfirmed-payment': 'payment-unconfirmed',
  'return-not-confirmed': 'payment-unconfirmed',
  'window-open-failed': 'window-failed',
  'bad-checkout-url': 'window-failed',
  'unknown-payment': 'window-failed',
  'storage-failed': 'window-failed',
}

/** The reason for a failure code in either spelling (`AMOUNT_MISMATCH`, `amount-mismatch`). */
export function failureReasonOfCode(code: string | undefined): AlipayFailureReason {
  if (!code) return 'internal'
  const key = code.toLowerCase().replace(/_/g, '-')
  return REASON_OF_CODE[key] ?? (KNOWN.has(key) ? (key as AlipayFailureReason) : 'internal')
}

/** The reason for how a checkout ended without a payment (a paid outcome has none). */
export function failureReasonOfOutcome(outcome: CheckoutOutcome): AlipayFailureReason | undefined {
  if (outcome.kind === 'paid') return undefined
  if (outcome.kind === 'failed') return failureReasonOfCode(outcome.code)
  return outcome.reason === 'buyer' ? 'cancelled' : outcome.reason === 'expired' ? 'session-expired' : 'window-closed'
}

/** The message of an error that carries `reason`: `"[alipay] <reason>: <text>"`. */
export function failureMessage(reason: AlipayFailureReason, text: string): string {
  return `${DIAGNOSTIC_PREFIX} ${reason}: ${text}`
}

const MESSAGE_REASON = /^\[alipay\] ([a-z-]+):/

/** The reason a DOMException of the spec's name means when the message does not say one. */
const REASON_OF_NAME: Record<string, AlipayFailureReason> = {
  AbortError: 'cancelled',
  SecurityError: 'user-activation-required',
  NotSupportedError: 'not-supported',
  InvalidStateError: 'invalid-state',
  OperationError: 'internal',
}

/**
 * The stable reason of an error a `PaymentRequest` for `"alipay"` threw or rejected with, or
 * undefined when it is no such error. Errors the kit made say it in their message; the browser's
 * own (Chromium's AbortError after `abort()`, its NotSupportedError) are read by their name.
 */
export function alipayFailureReason(error: unknown): AlipayFailureReason | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { name, message } = error as { name?: unknown; message?: unknown }
  const stated = typeof message === 'string' ? MESSAGE_REASON.exec(message)?.[1] : undefined
  if (stated && KNOWN.has(stated)) return stated as AlipayFailureReason
  return typeof name === 'string' ? REASON_OF_NAME[name] : undefined
}
