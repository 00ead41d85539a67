export { installAlipayPolyfill, type PolyfillMode } from './install.js'
export type { AlipayPolyfillOptions } from './config.js'
