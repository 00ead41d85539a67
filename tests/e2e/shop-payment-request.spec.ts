import { expect, test } from '@playwright/test'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { findHandlerWindow } from '@alipay-payment-handler/testing'
import {
  screenshotDir,
  gatewayTrades,
  orderFromShop,
  orderState,
  ordersPageUrl,
  payAtCashierWindow,
} from './support/shop-pages.js'
import { SHOP_ORIGIN, GATEWAY_KINDS, startShopStack, type ShopStack } from './support/shop-stack.js'

// The same journeys on each gateway (docs/decisions/0003): only the partner's configuration differs.
for (const kind of GATEWAY_KINDS) {
  test.describe(`on ${kind}`, () => {
    const shots = screenshotDir(kind)
    let stack: ShopStack
    test.beforeAll(async () => {
      stack = await startShopStack({ gatewayKind: kind })
    })
    test.afterAll(async () => {
      await stack?.close()
    })

    test('a buyer pays with Alipay through PaymentRequest and the shop says paid only after verifying it', async ({
      page,
      browser,
    }) => {
      await page.setViewportSize({ width: 1100, height: 760 })
      await page.goto(`${SHOP_ORIGIN}/`)
      await page.locator('button[data-product="celadon-cup"]').click()
      await page.locator('button[data-product="longjing-tea"]').click()
      await expect(page.locator('#cart-total')).toHaveText('¥107.90')
      await page.screenshot({ path: `${shots}shop.png` })
      await page.locator('#checkout').click()
      await page.waitForURL(/checkout\.html\?order=/)
      const orderId = new URL(page.url()).searchParams.get('order')!

      // The button waits for the signed payment data, so the click can call show() at once.
      await expect(page.locator('#pay-request')).toBeEnabled()
      // Chromium has payment handlers: the polyfill maps "alipay" to the handler's URL (native mode).
      await expect(page.locator('body')).toHaveAttribute('data-polyfill', 'native')
      await page.screenshot({ path: `${shots}checkout.png`, fullPage: true })
      const confirmed = page.waitForResponse(
        (response) =>
          response.request().method() === 'POST' && response.url().endsWith(`/api/orders/${orderId}/confirm`),
      )
      await page.locator('#pay-request').click()
      await expect(page.locator('#pay-status')).toContainText('Waiting for Alipay')

      // Opened by the service worker (?prid=), not by the polyfill's popup (?mode=popup).
      const win = await findHandlerWindow(browser, page, '/pay/checkout.html?prid=')
      try {
        await win.waitForState('review')
        await win.screenshot(`${shots}checkout-window.png`)
        await win.click('#pay')
        await payAtCashierWindow(win, DEMO_BUYER)
        await win.screenshot(`${shots}cashier.png`)
        await win.evaluate(`document.querySelector('#pay').click()`)
      } finally {
        await win.detach()
      }

      // show() resolved with the gateway-signed details, and the shop's backend verified them.
      const confirmation = await confirmed
      expect(confirmation.status()).toBe(200)
      const sent = confirmation.request().postDataJSON() as { details: Record<string, string> }
      expect(sent.details).toMatchObject({ out_trade_no: orderId, success: 'true' })
      expect(((await confirmation.json()) as { status: string }).status).toBe('success')
      await expect(page.locator('#order-state')).toHaveText('Paid', { timeout: 30_000 })
      await expect(page.locator('#pay-status')).toContainText('Paid. Thank you!')
      await expect(page.locator('#checkout-heading')).toHaveText('Thank you for your order')
      const order = await orderState(page, orderId)
      expect(order.status).toBe('success')
      expect(order.tradeNo).toMatch(/^\d+$/)
      // One trade at the gateway, paid once.
      expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_SUCCESS'])
      // …through the partner's own gateway: the signing server re-signed the same method data for it.
      expect((await gatewayTrades(page, orderId)).map((t) => t.service)).toEqual([
        kind === 'mapi' ? 'create_direct_pay_by_user' : 'alipay.trade.page.pay',
      ])
      // The notify arrives on its own path (gateway → payment app relay → shop) and is recorded.
      await expect
        .poll(async () => (await orderState(page, orderId)).notifies.length, { timeout: 20_000 })
        .toBeGreaterThan(0)

      await page.goto(ordersPageUrl(stack))
      const row = page.locator(`tr[data-order="${orderId}"]`)
      await expect(row.locator('.badge')).toHaveText('Paid')
      await row.locator('summary').click()
      await expect(row.locator('.notifies li').first()).toContainText('signature verified')
      await page.screenshot({ path: `${shots}orders.png` })
    })

    test('cancelling in the payment window leaves the order unpaid, says so, and lets the buyer try again', async ({
      page,
      browser,
    }) => {
      const orderId = await orderFromShop(page)
      await expect(page.locator('#pay-request')).toBeEnabled()
      await page.locator('#pay-request').click()
      const win = await findHandlerWindow(browser, page, '/pay/checkout.html')
      try {
        await win.waitForState('review')
        await win.click('#cancel')
      } finally {
        await win.detach()
      }
      await expect(page.locator('#pay-status')).toContainText('Payment cancelled. Nothing was charged')
      await expect(page.locator('#order-state')).toHaveText('Waiting for payment')
      await expect(page.locator('#pay-request')).toBeEnabled()
      await expect(page.locator('#pay-qr')).toBeEnabled()
      expect((await orderState(page, orderId)).status).toBe('wait')
      expect(await gatewayTrades(page, orderId)).toEqual([])

      // The payment UI closed, so a second attempt opens a fresh payment window.
      await page.locator('#pay-request').click()
      const again = await findHandlerWindow(browser, page, '/pay/checkout.html')
      try {
        await again.waitForState('review')
        await again.click('#cancel')
      } finally {
        await again.detach()
      }
      await expect(page.locator('#pay-request')).toBeEnabled()
    })
  })
}
