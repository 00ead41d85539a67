/**
 * Where the payment app lives on its origin. One place, because Chromium, the worker, the pages
 * and the server must agree on every one of these paths.
 */

/** The URL payment method identifier's path; also the service worker's scope without the slash. */
export const PAY_PATH = '/pay'
/** The worker's scope: it controls the checkout and return pages, nothing else on the origin. */
export const SCOPE_PATH = '/pay/'
export const SW_PATH = '/pay/sw.js'
export const CHECKOUT_PATH = '/pay/checkout.html'
export const RETURN_PATH = '/pay/return.html'
/** The gateway's return_url is `/pay/return/<sessionId>` (docs/decisions/0002-sessions-api.md). */
export const RETURN_PREFIX = '/pay/return/'
export const PAYMENT_MANIFEST_PATH = '/pay/payment-manifest.json'
export const WEB_APP_MANIFEST_PATH = '/pay/manifest.json'

/** The URL payment method identifier of a payment app origin, e.g. `http://localhost:4200/pay`. */
export function methodUrl(origin: string): string {
  return new URL(PAY_PATH, origin).href
}

/** The checkout page the worker opens for one payment request. */
export function checkoutUrl(origin: string, paymentRequestId: string): string {
  const url = new URL(CHECKOUT_PATH, origin)
  url.searchParams.set('prid', paymentRequestId)
  return url.href
}

/**
 * Serializes an origin the way `CheckoutRequest.merchantOrigin` wants it. Chromium's
 * `paymentRequestOrigin` ends with a slash ("http://localhost:4100/"), which is not an origin.
 * Undefined when the text is no http(s) origin.
 */
export function normalizeOrigin(text: string | undefined | null): string | undefined {
  if (!text) return undefined
  try {
    const url = new URL(text)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
    return url.origin
  } catch {
    return undefined
  }
}

/** The session id in a return path, or undefined when the path is not `/pay/return/<id>`. */
export function sessionIdFromReturnPath(pathname: string): string | undefined {
  if (!pathname.startsWith(RETURN_PREFIX)) return undefined
  const id = decodeURIComponent(pathname.slice(RETURN_PREFIX.length))
  return /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : undefined
}
