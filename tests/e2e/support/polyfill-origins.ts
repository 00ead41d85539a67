/** The fake payment app the polyfill tests open in popups: its own origin, next to the fixture server's. */
export const POLYFILL_APP_PORT = Number(process.env['E2E_POLYFILL_APP_PORT'] ?? 4391)
export const POLYFILL_APP_ORIGIN = `http://localhost:${POLYFILL_APP_PORT}`
