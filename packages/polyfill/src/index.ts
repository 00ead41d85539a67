export { installAlipayPolyfill, type PolyfillMode } from './install.js'
export type { AlipayPolyfillOptions } from './config.js'
export { ALIPAY_FAILURE_REASONS, alipayFailureReason, type AlipayFailureReason } from '@alipay-payment-handler/protocol'
