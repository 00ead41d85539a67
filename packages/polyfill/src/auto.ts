import { installAlipayPolyfill } from './install.js'

export { installAlipayPolyfill, type PolyfillMode } from './install.js'
export type { AlipayPolyfillOptions } from './config.js'

// The prebuilt one-line install: <script type="module" src="…/alipay-polyfill.js?app=https://pay.example.com">.
// The top-level await makes importers wait until PaymentRequest is ready. It lives in its own
// entry so that the package's main entry has none and loads under require() too.
const app = new URL(import.meta.url).searchParams.get('app')
if (app) await installAlipayPolyfill({ appOrigin: app })
