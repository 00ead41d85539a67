import { installAlipayPolyfill, type PolyfillMode } from '@alipay-payment-handler/polyfill'

/**
 * Makes `supportedMethods: "alipay"` work in this page: the native payment handler where the
 * browser has one, the popup checkout elsewhere. `appOrigin` is the payment app's origin, which
 * the backend hands out in /config.json. Await it before the first `new PaymentRequest`.
 */
export function installPolyfill(appOrigin: string): Promise<PolyfillMode> {
  return installAlipayPolyfill({ appOrigin })
}
