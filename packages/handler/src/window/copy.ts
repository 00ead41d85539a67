import { failureReasonOfCode } from '@alipay-payment-handler/protocol'
import { HandlerError } from '../common/errors.js'

/**
 * Every sentence the shopper can see about a problem, by the stable code that caused it. One
 * catalogue, so the wording stays consistent and no diagnostic text ever reaches the page.
 */

export interface ProblemCopy {
  title: string
  message: string
  /** Whether trying the same step again can help (a network hiccup can; bad data cannot). */
  canRetry: boolean
}

const NOT_CHARGED = 'You have not been charged.'

const COPY: Record<string, ProblemCopy> = {
  INVALID_METHOD_DATA: {
    title: 'This payment can’t be started',
    message: `The shop sent payment details that Alipay can’t accept. ${NOT_CHARGED} Go back to the shop and try again, or contact the shop.`,
    canRetry: false,
  },
  AMOUNT_MISMATCH: {
    title: 'The amount doesn’t match the order',
    message: `The total the shop shows differs from the order it signed. ${NOT_CHARGED} Go back to the shop and try again.`,
    canRetry: false,
  },
  SERVER_UNREACHABLE: {
    title: 'Alipay can’t be reached right now',
    message: `Check your connection and try again in a moment. ${NOT_CHARGED}`,
    canRetry: true,
  },
  ORDER_EXPIRED: {
    title: 'This order has expired',
    message: `The time to pay for this order ran out. ${NOT_CHARGED} Go back to the shop to place the order again.`,
    canRetry: false,
  },
  ORDER_PAID: {
    title: 'This order is already paid',
    message: 'The shop has already received a payment for this order. Go back to the shop to see it.',
    canRetry: false,
  },
  MERCHANT_NOT_ALLOWED: {
    title: 'This shop can’t take Alipay here',
    message: `The shop isn’t set up to take Alipay payments on this website. ${NOT_CHARGED}`,
    canRetry: false,
  },
  SESSION_REJECTED: {
    title: 'Alipay couldn’t start this payment',
    message: `The order details could not be confirmed. ${NOT_CHARGED} Go back to the shop and try again.`,
    canRetry: false,
  },
  UNCONFIRMED_PAYMENT: {
    title: 'We couldn’t confirm your payment yet',
    message:
      'If you paid, the shop will still receive the payment. Try again, or go back to the shop and check your order.',
    canRetry: true,
  },
  UNKNOWN_PAYMENT: {
    title: 'This payment is no longer active',
    message: 'Close this window and start the payment from the shop again.',
    canRetry: false,
  },
  BAD_CHECKOUT_URL: {
    title: 'This page was opened the wrong way',
    message: 'Close this window and start the payment from the shop again.',
    canRetry: false,
  },
  INTERNAL: {
    title: 'Something went wrong',
    message: `${NOT_CHARGED} Go back to the shop and try again.`,
    canRetry: true,
  },
}

/**
 * Maps a signing server problem code (`…/problems/<code>`) to our catalogue. Unknown problem
 * codes fall back to SESSION_REJECTED, a refusal the buyer cannot fix by retrying.
 */
export function codeForProblem(problem: string | undefined): string {
  if (!problem) return 'SESSION_REJECTED'
  if (/expired/.test(problem)) return 'ORDER_EXPIRED'
  if (/(already-paid|order-paid|duplicate)/.test(problem)) return 'ORDER_PAID'
  if (/origin/.test(problem)) return 'MERCHANT_NOT_ALLOWED'
  if (/(amount|total|currency)/.test(problem)) return 'AMOUNT_MISMATCH'
  if (/(invalid-method-data|validation|invalid-signature|signature)/.test(problem)) return 'INVALID_METHOD_DATA'
  return 'SESSION_REJECTED'
}

/** The signing server's problem code behind a refused call, when there is one. */
export function serverProblem(error: unknown): string | undefined {
  if (!(error instanceof HandlerError) || error.code !== 'SESSION_REJECTED') return undefined
  const problem = error.details['problem']
  return typeof problem === 'string' ? problem : undefined
}

/**
 * The code a failed outcome reports to the merchant: the server's own problem code when it names
 * a reason merchants can act on (`origin-not-allowed`, `invalid-signature`), else ours.
 */
export function outcomeCode(code: string, problem: string | undefined): string {
  return problem !== undefined && failureReasonOfCode(problem) !== 'internal' ? problem : code
}

/**
 * The shopper's words for a code: one of ours, else a server problem code (`amount-mismatch`)
 * mapped through codeForProblem, else a generic, retryable problem.
 */
export function problemCopy(code: string): ProblemCopy {
  const known = COPY[code] ?? (/^[a-z0-9-]+$/.test(code) ? COPY[codeForProblem(code)] : undefined)
  return known ?? (COPY['INTERNAL'] as ProblemCopy)
}

/** "¥0.01" for CNY, "12.50 USD" otherwise: exactly the string the shop signed, never a float. */
export function formatAmount(currency: string, value: string): string {
  return currency.toUpperCase() === 'CNY' ? `¥${value}` : `${value} ${currency.toUpperCase()}`
}
