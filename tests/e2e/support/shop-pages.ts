import { expect, type Page } from '@playwright/test'
import { fileURLToPath } from 'node:url'
import type { HandlerWindow } from '@alipay-payment-handler/testing'
import { SHOP_GATEWAY_ORIGIN, SHOP_ORIGIN, type ShopStack } from './shop-stack.js'

/** The orders page as the start banner links it: the operator token in the fragment logs the browser in. */
export const ordersPageUrl = (stack: ShopStack): string =>
  `${SHOP_ORIGIN}/orders.html#operator=${stack.running.operatorToken}`

/** Screenshots the README shows; written there only with `UPDATE_SCREENSHOTS=1`, so a test run leaves the tree clean. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))

/** Where a journey's screenshots go: the README's copies (mapi, on request), test-results otherwise. */
export const screenshotDir = (kind: string): string =>
  kind === 'mapi' && process.env['UPDATE_SCREENSHOTS'] === '1'
    ? SCREENSHOT_DIR
    : fileURLToPath(new URL(`../../../test-results/shop/${kind}-screenshots/`, import.meta.url))

/** Adds products to the cart on the shop page, checks out, and returns the new order's id. */
export async function orderFromShop(page: Page, productIds: readonly string[] = ['tea-sachet']): Promise<string> {
  await page.goto(`${SHOP_ORIGIN}/`)
  for (const id of productIds) await page.locator(`button[data-product="${id}"]`).click()
  await expect(page.locator('#checkout')).toBeEnabled()
  await page.locator('#checkout').click()
  await page.waitForURL(/\/checkout\.html\?order=D\d{32}$/)
  const orderId = new URL(page.url()).searchParams.get('order')!
  await expect(page.locator('#order-state')).toHaveText('Waiting for payment')
  return orderId
}

/** Logs in at a sandbox cashier page and pays (desktop, WAP or phone page: same form). */
export async function payAtCashierPage(page: Page, buyer: { login: string; password: string }): Promise<void> {
  await page.locator('#login').fill(buyer.login)
  await page.locator('#password').fill(buyer.password)
  await page.locator('#pay').click()
}

/** The same, inside the payment handler window (driven over CDP). */
export async function payAtCashierWindow(
  win: HandlerWindow,
  buyer: { login: string; password: string },
): Promise<void> {
  await win.waitFor(`location.origin === ${JSON.stringify(SHOP_GATEWAY_ORIGIN)} && document.querySelector('#login')`)
  await win.evaluate(`(() => {
    document.querySelector('#login').value = ${JSON.stringify(buyer.login)}
    document.querySelector('#password').value = ${JSON.stringify(buyer.password)}
  })()`)
}

/** The merchant backend's view of an order, straight from its API. */
export async function orderState(
  page: Page,
  orderId: string,
): Promise<{ status: string; notifies: unknown[]; tradeNo?: string }> {
  const response = await page.request.get(`${SHOP_ORIGIN}/api/orders/${orderId}`)
  expect(response.ok()).toBe(true)
  return (await response.json()) as { status: string; notifies: unknown[]; tradeNo?: string }
}

/** The sandbox gateway's trades for an order: a payment counted twice would show here. */
export async function gatewayTrades(page: Page, orderId: string): Promise<{ status: string; service: string }[]> {
  const response = await page.request.get(`${SHOP_GATEWAY_ORIGIN}/_sandbox/trades?out_trade_no=${orderId}`)
  return ((await response.json()) as { trades: { status: string; service: string }[] }).trades
}

/** Pays an order on its checkout page through the mobile form (the quickest full payment). */
export async function payByWap(page: Page, orderId: string, buyer: { login: string; password: string }): Promise<void> {
  await page.goto(`${SHOP_ORIGIN}/checkout.html?order=${orderId}`)
  await page.locator('#pay-wap').click()
  await page.waitForURL(`${SHOP_GATEWAY_ORIGIN}/**`)
  await payAtCashierPage(page, buyer)
  await page.waitForURL(`${SHOP_ORIGIN}/checkout.html?order=${orderId}&returned=1`)
  await expect(page.locator('#order-state')).toHaveText('Paid')
}
