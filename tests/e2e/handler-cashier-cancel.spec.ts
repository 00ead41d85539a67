import { fileURLToPath } from 'node:url'
import { test as base, expect } from '@playwright/test'
import { findHandlerWindow } from '@alipay-payment-handler/testing'
import { startHandlerStack, type HandlerStack } from './support/handler-stack.js'

/**
 * The sandbox cashier's own Cancel link inside Chrome's payment handler window: it leads back to the
 * payment app (the trade's show_url), which ends show() as the buyer's cancel, as the checkout's
 * Cancel does. Driven over CDP (payment-handler-notes §6).
 */
const test = base.extend<object, { stack: HandlerStack }>({
  stack: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const stack = await startHandlerStack()
      await use(stack)
      await stack.close()
    },
    { scope: 'worker', timeout: 120_000 },
  ],
})

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url))

test("the cashier's Cancel returns to the merchant: show() ends as the buyer's cancel", async ({
  page,
  browser,
  stack,
}) => {
  await page.goto(`${stack.merchantOrigin}/shop.html`)
  const orderId = await page.evaluate<string>('window.__prepare({})')
  await page.click('#buy')
  const window = await findHandlerWindow(browser, page, '/pay/checkout.html')
  try {
    // The window goes on to the cashier by itself once the session exists.
    await window.waitFor(`location.pathname.startsWith('/cashier/') && document.querySelector('#cancel')`, 20_000)
    await window.screenshot(`${SHOTS}handler-cashier-cancel-1-cashier.png`)
    await window.click('#cancel')
    // Either show() settles, or the window stays on a page of the sandbox's own (as it did before).
    const stuck = () => window.evaluate<boolean>(`document.querySelector('#result') !== null`).catch(() => false)
    await expect
      .poll(async () => (await page.locator('#status').textContent()) !== 'showing' || (await stuck()), {
        timeout: 20_000,
      })
      .toBe(true)
    if (await window.isOpen()) {
      await window.waitFor(`document.readyState === 'complete'`).catch(() => undefined)
      await window.screenshot(`${SHOTS}handler-cashier-cancel-2-window.png`).catch(() => undefined)
    }
  } finally {
    await window.detach()
  }
  await expect(page.locator('#status')).toHaveText('cancelled buyer', { timeout: 20_000 })
  await page.screenshot({ path: `${SHOTS}handler-cashier-cancel-3-merchant.png` })
  const response = await page.evaluate('window.__response')
  expect(response).toEqual({
    methodName: stack.method,
    details: { success: 'false', cancelled: 'true', reason: 'buyer', failure: 'cancelled' },
  })
  const sessionId = stack.sessionIdsOf(orderId)[0]!
  expect((await stack.session(sessionId)).status).toBe('cancelled')
})
