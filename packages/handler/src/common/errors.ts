/** Prefix of every diagnostic the payment handler prints. */
export const HANDLER_PREFIX = '[alipay-handler]'

/** Stable codes of handler failures. Callers and the shopper-facing copy branch on these. */
export type HandlerErrorCode =
  /** The merchant's PaymentMethodSpecificData breaks a rule (protocol/ validation). */
  | 'INVALID_METHOD_DATA'
  /** The browser's total differs from the signed total_fee, or is not CNY. */
  | 'AMOUNT_MISMATCH'
  /** `openWindow()` gave null or threw: the checkout could not be shown. */
  | 'WINDOW_OPEN_FAILED'
  /** The signing server did not answer (network error, 5xx, timeout). */
  | 'SERVER_UNREACHABLE'
  /** The signing server refused the session (problem+json); details carry its problem code. */
  | 'SESSION_REJECTED'
  /** The order's it_b_pay elapsed. */
  | 'ORDER_EXPIRED'
  /** The window reported a payment the server could not confirm: never passed on as paid. */
  | 'UNCONFIRMED_PAYMENT'
  /** The window named a session that is not the one created for this payment request (another order, amount or merchant). */
  | 'SESSION_MISMATCH'
  /** IndexedDB failed: the session could not be kept. */
  | 'STORAGE_FAILED'
  /** The window asked about a payment this worker has never seen. */
  | 'UNKNOWN_PAYMENT'
  /** The page was opened without the parameters that say who opened it. */
  | 'BAD_CHECKOUT_URL'
  /** Anything unexpected; details hold the cause. */
  | 'INTERNAL'

/** An error with a stable code, structured details and the one prefix. */
export class HandlerError extends Error {
  override name = 'HandlerError'
  readonly code: HandlerErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: HandlerErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(`${HANDLER_PREFIX} ${message}`)
    this.code = code
    this.details = details
  }
}

/** The message of any thrown value, for logs and `details.message`. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
