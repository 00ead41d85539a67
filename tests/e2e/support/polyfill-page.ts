import { expect, type Page } from '@playwright/test'
import { FIXTURE_ORIGIN } from './origins.js'
import { POLYFILL_APP_ORIGIN } from './polyfill-origins.js'

/** Native: Chromium's own PaymentRequest with the polyfill's identifier mapping. Fallback: the polyfill's popup implementation. */
export type PolyfillMode = 'native' | 'fallback'

/** Everything the spec defines, removed before any page script runs: Chromium without the Payment Request API. */
/** Init script that removes the native Payment Request API, so the polyfill takes its fallback path. */
export const REMOVE_NATIVE_SCRIPT = `for (const name of ['PaymentRequest', 'PaymentResponse', 'PaymentRequestUpdateEvent',
  'PaymentMethodChangeEvent', 'PaymentManager', 'PaymentAddress']) delete window[name]`

/** Opens the test shop in the given mode and waits until the polyfill reports that mode. */
export async function openShop(page: Page, mode: PolyfillMode, query: Record<string, string> = {}): Promise<void> {
  if (mode === 'fallback') await page.addInitScript(REMOVE_NATIVE_SCRIPT)
  const search = new URLSearchParams({ app: POLYFILL_APP_ORIGIN, ...query })
  await page.goto(`${FIXTURE_ORIGIN}/tests/e2e/fixtures/polyfill-merchant.html?${search}`)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await expect(page.locator('body')).toHaveAttribute('data-mode', mode)
}

/** Runs `body` in the page (with Playwright's user activation) and returns 'ok', or the name of what it threw. */
export function attempt(page: Page, body: string): Promise<string> {
  return page.evaluate(`(async () => {
    try { ${body}; return 'ok' } catch (error) { return error && error.name || String(error) }
  })()`)
}

/** The name a promise expression rejects with, or 'resolved'. */
export function settle(page: Page, promiseExpression: string): Promise<string> {
  return page.evaluate(
    `Promise.resolve(${promiseExpression}).then(() => 'resolved', (error) => error && error.name || String(error))`,
  )
}
