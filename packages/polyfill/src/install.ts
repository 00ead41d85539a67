import { resolveConfig, type AlipayPolyfillOptions } from './config.js'

/** What the polyfill did: native handlers, the popup fallback, or nothing (insecure context). */
export type PolyfillMode = 'native' | 'fallback' | 'unsupported'

let installed: Promise<PolyfillMode> | undefined

/** Chromium with payment handlers: both are functions on the page (payment-handler-notes §7.1). */
function hasPaymentHandlers(): boolean {
  return 'PaymentRequest' in window && 'PaymentManager' in window
}

/**
 * Makes `supportedMethods: "alipay"` work on this page. Both modes are dynamic imports, so the
 * loader a page blocks on is detection only: await the promise (or construct requests in a click
 * handler) before the first `new PaymentRequest(…)`. Installing twice returns the first installation.
 */
export function installAlipayPolyfill(options: AlipayPolyfillOptions): Promise<PolyfillMode> {
  if (installed) return installed
  try {
    const config = resolveConfig(options)
    const mode = options.mode ?? 'auto'
    // The Payment Request API exists only in secure contexts; the popup channel relies on that too.
    if (!window.isSecureContext) installed = Promise.resolve('unsupported')
    else if (mode === 'native' || (mode === 'auto' && hasPaymentHandlers())) {
      installed = import('./native.js').then(({ installNative }) => {
        installNative(config)
        return 'native' as const
      })
    } else {
      installed = import('./fallback/install.js').then(({ installFallback }) => {
        installFallback(config)
        return 'fallback' as const
      })
    }
  } catch (error) {
    return Promise.reject(error)
  }
  return installed
}
