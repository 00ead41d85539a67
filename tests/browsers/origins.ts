/**
 * Origins of the Firefox and WebKit runs: the merchant shop (the repository served by Vite) and
 * the fake payment app. Ports of their own, so they never collide with the Playwright suite's.
 */
export const SHOP_PORT = Number(process.env['BROWSERS_SHOP_PORT'] ?? 4396)
export const APP_PORT = Number(process.env['BROWSERS_APP_PORT'] ?? 4397)
export const SHOP_ORIGIN = `http://localhost:${SHOP_PORT}`
export const APP_ORIGIN = `http://localhost:${APP_PORT}`

/** The test shop in fallback mode; see tests/e2e/fixtures/polyfill-merchant.ts for the query. */
export function shopUrl(query: Record<string, string> = {}): string {
  const search = new URLSearchParams({ app: APP_ORIGIN, ...query })
  return `${SHOP_ORIGIN}/tests/e2e/fixtures/polyfill-merchant.html?${search}`
}
