import { DIAGNOSTIC_PREFIX } from '@alipay-payment-handler/protocol'

/** How the merchant page configures the polyfill. */
export interface AlipayPolyfillOptions {
  /** Origin of the payment app, e.g. `"https://pay.example.com"`. Its `/pay` is the URL identifier. */
  appOrigin: string
  /**
   * `"auto"` (default) picks native payment handlers when the browser has them, the popup
   * fallback otherwise. `"fallback"` forces the popup (for browsers whose handlers are switched off).
   */
  mode?: 'auto' | 'native' | 'fallback'
  /**
   * Milliseconds the fallback waits for `complete()` before it acts as if `complete()` had been
   * called with no arguments, as the spec allows. Default 60 000, Chromium's value.
   */
  completeTimeout?: number
}

/** The options after checking, with every derived URL. */
export interface PolyfillConfig {
  appOrigin: string
  /** The payment app's URL-based payment method identifier. */
  methodUrl: string
  completeTimeout: number
  /** The checkout page in popup mode, told which merchant origin to answer. */
  checkoutUrl(merchantOrigin: string): string
}

// Chromium closes the payment UI 60 s after show() resolves when complete() is never called.
const DEFAULT_COMPLETE_TIMEOUT_MS = 60_000

/** Checks the options and derives the URLs; a malformed origin is a TypeError that names the fix. */
export function resolveConfig(options: AlipayPolyfillOptions): PolyfillConfig {
  let url: URL | undefined
  try {
    url = new URL(options.appOrigin)
  } catch {
    url = undefined
  }
  if (!url || url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new TypeError(`${DIAGNOSTIC_PREFIX} appOrigin must be an origin such as "https://pay.example.com".`)
  }
  const appOrigin = url.origin
  return {
    appOrigin,
    methodUrl: `${appOrigin}/pay`,
    completeTimeout: options.completeTimeout ?? DEFAULT_COMPLETE_TIMEOUT_MS,
    checkoutUrl: (merchantOrigin) =>
      `${appOrigin}/pay/checkout.html?mode=popup&origin=${encodeURIComponent(merchantOrigin)}`,
  }
}
