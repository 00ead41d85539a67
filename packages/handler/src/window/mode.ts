import { normalizeOrigin } from '../common/paths.js'

/** Who opened the checkout, and so whom it answers. */
export type CheckoutMode =
  /** Opened by the service worker's openWindow(): window.opener is null; talk to the worker. */
  | { kind: 'worker'; paymentRequestId: string }
  /** Opened by the polyfill's window.open(): talk to window.opener over a MessageChannel. */
  | { kind: 'popup'; merchantOrigin: string }
  | { kind: 'invalid'; reason: string }

/**
 * Reads the mode from the page URL and whether the page has an opener. The popup's merchant
 * origin must be an exact http(s) origin: it becomes the targetOrigin of the handshake, never '*'.
 */
export function detectMode(href: string, hasOpener: boolean): CheckoutMode {
  const params = new URL(href).searchParams
  if (params.get('mode') === 'popup') {
    const raw = params.get('origin')
    const origin = normalizeOrigin(raw)
    if (!hasOpener) return { kind: 'invalid', reason: 'popup mode without an opener' }
    // Only an exact origin: "http://shop.example/path" would silently widen what we trust.
    if (!origin || origin !== raw) return { kind: 'invalid', reason: `"${raw ?? ''}" is not an origin` }
    return { kind: 'popup', merchantOrigin: origin }
  }
  const paymentRequestId = params.get('prid')
  if (hasOpener) return { kind: 'invalid', reason: 'opened by a page without mode=popup' }
  if (!paymentRequestId) return { kind: 'invalid', reason: 'no payment request id' }
  return { kind: 'worker', paymentRequestId }
}
