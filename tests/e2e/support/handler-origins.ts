/**
 * Ports of the payment handler suite's own stack (tests/e2e/payment-handler.spec.ts): a merchant,
 * the payment app (signing server + handler assets) and the gateway sandbox, each its own origin.
 * Not 4100/4200/4300, so `npm start` can run next to the tests.
 */
export const HANDLER_MERCHANT_PORT = Number(process.env['E2E_HANDLER_MERCHANT_PORT'] ?? 4494)
export const HANDLER_APP_PORT = Number(process.env['E2E_HANDLER_APP_PORT'] ?? 4495)
export const HANDLER_GATEWAY_PORT = Number(process.env['E2E_HANDLER_GATEWAY_PORT'] ?? 4496)

export const HANDLER_MERCHANT_ORIGIN = `http://localhost:${HANDLER_MERCHANT_PORT}`
export const HANDLER_APP_ORIGIN = `http://localhost:${HANDLER_APP_PORT}`
/** The URL payment method identifier the test merchant asks for. */
export const HANDLER_METHOD = `${HANDLER_APP_ORIGIN}/pay`
