// Loads every public entry point from CommonJS: Node >= 20.19 loads ES modules synchronously
// through require() when they have no top-level await.
const entries = [
  '@alipay-payment-handler/protocol',
  '@alipay-payment-handler/polyfill',
  '@alipay-payment-handler/handler',
  '@alipay-payment-handler/gateway-client',
  '@alipay-payment-handler/server-runtime',
  '@alipay-payment-handler/payment-app',
  '@alipay-payment-handler/merchant',
  '@alipay-payment-handler/sandbox',
  '@alipay-payment-handler/sandbox/testing',
  '@alipay-payment-handler/testing',
]
for (const entry of entries) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading through require() is what this checks
  const exported = Object.keys(require(entry))
  if (exported.length === 0) throw new Error(`${entry}: require() gave an empty module`)
  console.log(`require: ${entry} (${exported.length} exports)`)
}
