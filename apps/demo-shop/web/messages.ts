import { alipayFailureReason, type AlipayFailureReason } from '@alipay-payment-handler/polyfill'

/**
 * What the shop says for each reason a Payment Request can end without a payment
 * (`alipayFailureReason`). Every reason has a sentence, so the buyer never reads an error name.
 */
const REASON_MESSAGES: Record<AlipayFailureReason, (origin: string) => string> = {
  cancelled: () => 'Payment cancelled. Nothing was charged; you can try again or pick another way to pay.',
  'window-closed': () =>
    'Payment cancelled. Nothing was charged: the Alipay window was closed before paying. You can try again.',
  'popup-blocked': () =>
    'The browser blocked the Alipay window. Allow pop-ups for this site, then click “Pay with Alipay” again. Nothing was charged.',
  'merchant-aborted': () => 'The shop stopped waiting for Alipay. Nothing was charged; you can try again.',
  'page-left': () => 'The payment stopped because the page was left. Nothing was charged; you can try again.',
  'already-showing': () => 'A payment window is already open. Finish or close it first.',
  'session-expired': () =>
    'The time to pay for this order ran out. Nothing was charged; click “Order again” to pay for the same items.',
  'user-activation-required': () => 'The browser blocked the payment window. Click “Pay with Alipay” again.',
  'not-supported': () =>
    'This browser cannot open the Alipay payment app. Use the QR code or the mobile form below instead.',
  'invalid-state': () => 'A payment window is already open. Finish or close it first.',
  'method-data-invalid': () =>
    'The shop sent payment details Alipay cannot accept (a shop set-up problem). Nothing was charged; try another way to pay.',
  'signature-invalid': () =>
    'Alipay could not verify the shop’s signature on this order (the partner key does not match). Nothing was charged.',
  'amount-mismatch': () =>
    'The amount shown does not match the signed order, so Alipay refused it. Nothing was charged.',
  'origin-not-allowed': (origin) =>
    `The payment app does not take payments from ${origin}, the address this shop is open at. ` +
    `Open the shop at ${suggestedOrigin(origin)} instead, or add ${origin} to the payment app’s allowed origins ` +
    '(ALIPAY_ALLOWED_ORIGINS). Nothing was charged.',
  'order-already-paid': () => 'This order is already paid. This page shows its state as soon as the shop knows.',
  'session-rejected': () => 'Alipay refused to start this payment. Nothing was charged; try again or pick another way.',
  'server-unreachable': () =>
    'The Alipay payment app cannot be reached right now. Nothing was charged; try again in a moment.',
  'payment-failed': () => 'Alipay did not complete the payment (for example, not enough balance). Nothing was charged.',
  'payment-unconfirmed': () =>
    'Alipay has not confirmed the payment yet. This page updates by itself as soon as it does.',
  'window-failed': () => 'The Alipay window could not be opened. Nothing was charged; click “Pay with Alipay” again.',
  internal: () => 'The Alipay payment app ran into a problem. Nothing was charged; try again in a moment.',
}

/** The address a developer most likely meant: the sandbox stack allows `localhost`, not `127.0.0.1`. */
function suggestedOrigin(origin: string): string {
  return origin.replace(/^(https?:\/\/)(127\.0\.0\.1|\[::1\])(?=[:/]|$)/, '$1localhost')
}

/** The sentence for a failure reason, for this page's origin. */
export function messageForReason(reason: AlipayFailureReason, origin = globalThis.location?.origin ?? ''): string {
  return REASON_MESSAGES[reason](origin)
}

/**
 * Every sentence the shop shows about a failure, in one place. Pages look messages up by code
 * (a ShopApiError's code, an Alipay failure reason, or a DOMException's name from
 * PaymentRequest) and never show a raw error to a buyer.
 */
const MESSAGES: Record<string, string> = {
  NETWORK: 'The shop’s server cannot be reached. Check that npm start is still running, then try again.',
  AbortError: 'Payment cancelled. Nothing was charged; you can try again or pick another way to pay.',
  NotSupportedError:
    'This browser cannot open the Alipay payment app. Use the QR code or the mobile form below instead.',
  SecurityError: 'The browser blocked the payment window. Click “Pay with Alipay” again.',
  InvalidStateError: 'A payment window is already open. Finish or close it first.',
  NotAllowedError: 'The browser blocked the payment window. Click “Pay with Alipay” again.',
  PAYMENT_NOT_SUCCESSFUL: 'Alipay did not complete the payment (for example, not enough balance). Nothing was charged.',
  PAYMENT_NOT_CONFIRMED: 'Alipay has not confirmed the payment yet. This page updates by itself as soon as it does.',
  INVALID_SIGNATURE:
    'The payment result could not be verified, so the order is not marked paid. This page updates if Alipay confirms it.',
  ORDER_MISMATCH: 'The payment result belongs to another order, so this order is not marked paid.',
  AMOUNT_MISMATCH: 'The amount Alipay reported does not match the order, so it is not marked paid.',
  SELLER_MISMATCH: 'The payment went to another seller, so this order is not marked paid.',
  ORDER_NOT_EXIST: 'This order does not exist. Start again from the shop.',
  ORDER_VIEW_DENIED: 'This order was placed in another browser, so it cannot be shown here. Start again from the shop.',
  OPERATOR_TOKEN_WRONG: 'That is not the operator token the shop printed at start. Check it and try again.',
  OPERATOR_REQUIRED: 'This page is for the shop’s operator. Use the link npm start printed, or enter its token.',
  ORDER_EXPIRED:
    'This order expired before it was paid. Nothing was charged; click “Order again” to pay for the same items.',
  ORDER_CLOSED:
    'This order is cancelled and can no longer be paid. Nothing was charged; click “Order again” to pay for the same items.',
  ORDER_STATE_CONFLICT: 'This order is no longer waiting for payment. Its current state is shown above.',
  REFUND_AMOUNT_EXCEEDED: 'The refund is larger than what is left to refund.',
  REFUND_REFUSED: 'Alipay refused the refund.',
  UNKNOWN_PAY_TYPE: 'This way of paying is not available.',
  GATEWAY_ERROR: 'Alipay’s gateway cannot be reached right now. Try again in a moment.',
  CART_EMPTY: 'Your cart is empty. Add something first.',
  UNKNOWN_PRODUCT: 'Something in your cart is no longer sold. Remove it and try again.',
  BAD_QUANTITY: 'A quantity in your cart is not valid.',
  TIMEOUT:
    'No answer from Alipay in ten minutes, so the shop closed the payment window. Nothing was charged; you can try again.',
  AUTH_CODE_INVALID: 'That is not a payment code. Scan the code in the buyer’s Alipay app (digits only).',
  NOT_FOUND: 'This shop has no counter: barcode payments need an openapi app.',
}

/** The buyer-facing sentence for a failure code, with a sensible fallback. */
export function messageFor(code: string, detail?: string): string {
  return MESSAGES[code] ?? (detail ? `Something went wrong: ${detail}` : `Something went wrong (${code}).`)
}

/** Turns anything thrown into a code and a sentence. */
export function describeError(error: unknown): { code: string; message: string } {
  // PaymentRequest's errors: the polyfill and the payment app say why in a stable reason.
  const reason = error instanceof Error || error instanceof DOMException ? alipayFailureReason(error) : undefined
  if (reason) return { code: reason, message: messageForReason(reason) }
  if (typeof error === 'object' && error !== null) {
    const { code, name, detail } = error as { code?: unknown; name?: unknown; detail?: unknown }
    const key = typeof code === 'string' ? code : typeof name === 'string' ? name : 'UNKNOWN'
    return { code: key, message: messageFor(key, typeof detail === 'string' ? detail : undefined) }
  }
  return { code: 'UNKNOWN', message: messageFor('UNKNOWN') }
}

/** How an order's local state reads to a person. */
export const STATUS_LABELS: Record<string, string> = {
  wait: 'Waiting for payment',
  success: 'Paid',
  close: 'Cancelled',
  timeout: 'Expired',
  refund: 'Refunded',
}
