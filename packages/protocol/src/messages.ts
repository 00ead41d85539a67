import { failureReasonOfCode, type AlipayFailureReason } from './failure-reasons.js'
import type { AlipayPaymentResponse, PaymentMethodSpecificData } from './types.js'

/**
 * Messages between the checkout window and whoever opened it: the service worker (native path)
 * or the polyfill in the merchant page (popup path). One union per direction, `type` in
 * SCREAMING_SNAKE and a single `payload`.
 */

/** What the checkout needs to show and start a payment. */
export interface CheckoutRequest {
  paymentRequestId: string
  /** The merchant page's origin, serialized without a trailing slash. */
  merchantOrigin: string
  methodData: PaymentMethodSpecificData
  total: { currency: string; value: string }
}

/** How a checkout ended, as the opener learns it. */
export type CheckoutOutcome =
  | { kind: 'paid'; details: AlipayPaymentResponse }
  | { kind: 'cancelled'; reason: 'buyer' | 'expired' | 'closed' }
  | { kind: 'failed'; code: string; message: string }

export type WindowToOpener =
  /** Popup path: first message, posted to window.opener with the merchant's exact origin and a port. */
  | { type: 'CHECKOUT_READY'; payload: { version: 1 } }
  /** Asks the opener for the request (worker: by paymentRequestId from IndexedDB). */
  | { type: 'GET_REQUEST'; payload: { paymentRequestId?: string } }
  /** The session the signing server created, so a restarted worker can find it. */
  | { type: 'SESSION_CREATED'; payload: { paymentRequestId: string; sessionId: string } }
  /** The end: a server-verified response, a cancellation or a failure. */
  | { type: 'CHECKOUT_DONE'; payload: { paymentRequestId: string; outcome: CheckoutOutcome } }
  /** Keeps a service worker alive during a long checkout. */
  | { type: 'KEEPALIVE'; payload: { paymentRequestId: string } }

export type OpenerToWindow =
  | { type: 'REQUEST'; payload: CheckoutRequest }
  /** The merchant aborted, or the worker found the payment orphaned: stop and close. */
  | { type: 'ABORT'; payload: { reason: string } }

const WINDOW_TYPES = new Set(['CHECKOUT_READY', 'GET_REQUEST', 'SESSION_CREATED', 'CHECKOUT_DONE', 'KEEPALIVE'])
const OPENER_TYPES = new Set(['REQUEST', 'ABORT'])

function hasShape(data: unknown, types: Set<string>): data is { type: string; payload: unknown } {
  if (typeof data !== 'object' || data === null) return false
  const { type, payload } = data as { type?: unknown; payload?: unknown }
  return typeof type === 'string' && types.has(type) && typeof payload === 'object' && payload !== null
}

const OUTCOME_KINDS = new Set(['paid', 'cancelled', 'failed'])

/** A CHECKOUT_DONE's payload names its payment and carries an outcome of a known kind. */
function isDonePayload(payload: unknown): boolean {
  const { paymentRequestId, outcome } = payload as { paymentRequestId?: unknown; outcome?: unknown }
  if (typeof paymentRequestId !== 'string' || typeof outcome !== 'object' || outcome === null) return false
  const kind = (outcome as { kind?: unknown }).kind
  return typeof kind === 'string' && OUTCOME_KINDS.has(kind)
}

/**
 * Unpacks a raw message from the checkout window, or undefined when it is not one of ours. A
 * CHECKOUT_DONE without a well-formed outcome is not ours either: the worker would otherwise
 * fail on it (found by the worker's fuzz test, packages/handler/src/sw/client-message.fuzz.test.ts).
 */
export function parseWindowMessage(data: unknown): WindowToOpener | undefined {
  if (!hasShape(data, WINDOW_TYPES)) return undefined
  if (data.type === 'CHECKOUT_DONE' && !isDonePayload(data.payload)) return undefined
  return data as WindowToOpener
}

/** Unpacks a raw message from the opener, or undefined when it is not one of ours. */
export function parseOpenerMessage(data: unknown): OpenerToWindow | undefined {
  return hasShape(data, OPENER_TYPES) ? (data as OpenerToWindow) : undefined
}

/** Why a checkout ended without a payment, as the merchant's `details.reason` says it. */
export type CancelReason = 'buyer' | 'expired' | 'closed' | 'aborted' | 'failed'

/**
 * `details` of a payment handler response that carries no payment. The handler resolves
 * `respondWith` with it instead of rejecting, because a rejected `respondWith` leaves `show()`
 * pending in Chromium; the polyfill turns it into an `AbortError`. `success` stays `"false"` so a
 * merchant that skips the check still never sees a payment.
 */
export interface CancelledDetails {
  success: 'false'
  cancelled: 'true'
  reason: CancelReason
  /** Stable code of a failure (reason `failed`), e.g. `INVALID_METHOD_DATA`. */
  code?: string
  /** Diagnostic text for the merchant's logs, never shown to the buyer as is. */
  message?: string
  /** The stable reason the merchant's error carries (`alipayFailureReason`), e.g. `origin-not-allowed`; absent from older payment apps. */
  failure?: AlipayFailureReason
}

const FAILURE_OF_CANCEL: Record<Exclude<CancelReason, 'failed'>, AlipayFailureReason> = {
  buyer: 'cancelled',
  expired: 'session-expired',
  closed: 'window-closed',
  aborted: 'merchant-aborted',
}

const CANCEL_REASONS = new Set<string>(['buyer', 'expired', 'closed', 'aborted', 'failed'])

/** Builds CancelledDetails: `cancelledDetails('buyer')`, `cancelledDetails('failed', { code, message })`. */
export function cancelledDetails(
  reason: CancelReason,
  extra: { code?: string | undefined; message?: string | undefined } = {},
): CancelledDetails {
  const failure = reason === 'failed' ? failureReasonOfCode(extra.code) : FAILURE_OF_CANCEL[reason]
  const details: CancelledDetails = { success: 'false', cancelled: 'true', reason, failure }
  if (extra.code !== undefined) details.code = extra.code
  if (extra.message !== undefined) details.message = extra.message
  return details
}

/** True when a response's `details` is a cancellation rather than an AlipayPaymentResponse. */
export function isCancelledDetails(details: unknown): details is CancelledDetails {
  if (typeof details !== 'object' || details === null) return false
  const { cancelled, success, reason } = details as Record<string, unknown>
  return cancelled === 'true' && success === 'false' && typeof reason === 'string' && CANCEL_REASONS.has(reason)
}
