import { expect, type Frame, type Page } from '@playwright/test'
import { FIXTURE_ORIGIN } from './origins.js'
import { POLYFILL_APP_ORIGIN } from './polyfill-origins.js'

/** Native: Chromium's own PaymentRequest with the polyfill's identifier mapping. Fallback: the polyfill's popup implementation. */
export type PolyfillMode = 'native' | 'fallback'

/** Init script that removes the native Payment Request API, so the polyfill takes its fallback path. */
export const REMOVE_NATIVE_SCRIPT = `for (const name of ['PaymentRequest', 'PaymentResponse', 'PaymentRequestUpdateEvent',
  'PaymentMethodChangeEvent', 'PaymentManager', 'PaymentAddress']) delete window[name]`

/** The test shop's URL on `origin` (the fixture server answers on any `*.localhost` name too). */
export function shopUrl(query: Record<string, string> = {}, origin = FIXTURE_ORIGIN): string {
  const search = new URLSearchParams({ app: POLYFILL_APP_ORIGIN, ...query })
  return `${origin}/tests/e2e/fixtures/polyfill-merchant.html?${search}`
}

/** Opens the test shop in the given mode and waits until the polyfill reports that mode. */
export async function openShop(page: Page, mode: PolyfillMode, query: Record<string, string> = {}): Promise<void> {
  if (mode === 'fallback') await page.addInitScript(REMOVE_NATIVE_SCRIPT)
  await page.goto(shopUrl(query))
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await expect(page.locator('body')).toHaveAttribute('data-mode', mode)
}

/**
 * Adds an iframe (allow="payment") with the test shop on `origin` to the page, and returns its
 * frame once the frame's own copy of the polyfill is ready. The page's init scripts run in it too.
 */
export async function addShopFrame(page: Page, origin = FIXTURE_ORIGIN): Promise<Frame> {
  const src = shopUrl({}, origin)
  await page.evaluate(`new Promise((resolve) => {
    const frame = document.createElement('iframe')
    frame.allow = 'payment'
    frame.onload = resolve
    frame.src = ${JSON.stringify(src)}
    document.body.append(frame)
  })`)
  const frame = page.mainFrame().childFrames().at(-1)
  if (frame?.url() !== src) throw new Error(`no frame at ${src}`)
  await expect(frame.locator('body')).toHaveAttribute('data-ready', 'true')
  return frame
}

/** Runs `body` in the page (with Playwright's user activation) and returns 'ok', or the name of what it threw. */
export function attempt(page: Page, body: string): Promise<string> {
  return page.evaluate(`(async () => {
    try { ${body}; return 'ok' } catch (error) { return error && error.name || String(error) }
  })()`)
}

/** The name a promise expression rejects with, or 'resolved'. */
export function settle(target: Page | Frame, promiseExpression: string): Promise<string> {
  return target.evaluate(
    `Promise.resolve(${promiseExpression}).then(() => 'resolved', (error) => error && error.name || String(error))`,
  )
}

/** Like settle(), but 'pending' when the promise has not settled within `ms`: a test fails instead of hanging. */
export function settleWithin(target: Page | Frame, promiseExpression: string, ms = 5_000): Promise<string> {
  return settle(
    target,
    `Promise.race([${promiseExpression}, new Promise((resolve) => setTimeout(() => resolve('pending'), ${ms}))])
      .then((value) => { if (value === 'pending') throw { name: 'pending' } })`,
  )
}

/** The value `expression` (a promise) fulfils with, or 'pending' after `ms`. */
export function valueWithin(target: Page | Frame, expression: string, ms = 5_000): Promise<unknown> {
  return target.evaluate(
    `Promise.race([${expression}, new Promise((resolve) => setTimeout(() => resolve('pending'), ${ms}))])`,
  )
}
