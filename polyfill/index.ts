import { installAlipayPolyfill } from './install'

export { installAlipayPolyfill, type PolyfillMode } from './install'
export type { AlipayPolyfillOptions } from './config'

// One-line install: <script type="module" src="…/alipay-polyfill.js?app=https://pay.example.com">.
// The top-level await makes importers wait until PaymentRequest is ready.
const app = new URL(import.meta.url).searchParams.get('app')
if (app) await installAlipayPolyfill({ appOrigin: app })
