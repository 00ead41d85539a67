import {
  PAY_PATH,
  PAYMENT_MANIFEST_PATH,
  SCOPE_PATH,
  SW_PATH,
  WEB_APP_MANIFEST_PATH,
  methodUrl,
} from '../common/paths.js'

/** Everything a deployer sets for the payment app's identity. Only the origin is required. */
export interface IdentityConfig {
  /** Where browsers reach the payment app, e.g. `https://pay.example.com` or `http://localhost:4200`. */
  publicOrigin: string
  /**
   * Other payment apps' origins allowed to handle this method (the manifest's
   * `supported_origins`). Empty by default: only our own app serves it.
   */
  supportedOrigins?: readonly string[]
  /** The app's name in the browser's payment UI. */
  name?: string
}

/** The icons the web app manifest lists; they must download and decode or JIT install fails (payment-handler-notes §3). */
export const ICON_SIZES = [32, 192, 512] as const

const DEFAULT_NAME = 'Alipay'

/** The `Link` header of the URL payment method identifier (payment-handler-notes §3.1). */
export function paymentMethodLink(config: IdentityConfig): string {
  return `<${new URL(PAYMENT_MANIFEST_PATH, config.publicOrigin).href}>; rel="payment-method-manifest"`
}

/**
 * The payment method manifest. `default_applications` holds exactly one app on the same origin;
 * `supported_origins` is left out when empty, because an empty array is a parse error.
 */
export function paymentMethodManifest(config: IdentityConfig): Record<string, unknown> {
  const manifest: Record<string, unknown> = {
    default_applications: [new URL(WEB_APP_MANIFEST_PATH, config.publicOrigin).href],
  }
  const origins = (config.supportedOrigins ?? []).map((origin) => new URL(origin).origin)
  if (origins.length > 0) manifest['supported_origins'] = origins
  return manifest
}

/** The web app manifest Chromium installs the handler from: name, icons and the worker. */
export function webAppManifest(config: IdentityConfig): Record<string, unknown> {
  const name = config.name ?? DEFAULT_NAME
  return {
    name,
    short_name: name,
    start_url: `${PAY_PATH}/checkout.html`,
    scope: SCOPE_PATH,
    display: 'standalone',
    icons: ICON_SIZES.map((size) => ({
      src: `${PAY_PATH}/icon-${size}.png`,
      sizes: `${size}x${size}`,
      type: 'image/png',
    })),
    // use_cache false: a deploy reaches browsers at once; the worker is small.
    serviceworker: { src: SW_PATH, scope: SCOPE_PATH, use_cache: false },
  }
}

/** The identifier merchants (or the polyfill) put in `supportedMethods`. */
export function paymentMethodIdentifier(config: IdentityConfig): string {
  return methodUrl(config.publicOrigin)
}
