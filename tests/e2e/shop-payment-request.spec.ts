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
      // Press one of two: the shop's Pay.
      await page.locator('#pay-request').click()
      await expect(page.locator('#pay-status')).toContainText('Waiting for Alipay')

      // Opened by the service worker (?prid=), not by the polyfill's popup (?mode=popup).
      const win = await findHandlerWindow(browser, page, '/pay/checkout.html?prid=')
      try {
        // Nothing to press in the window: it goes on to the cashier by itself…
        await payAtCashierWindow(win, DEMO_BUYER)
        // …where the buyer sees the amount on the page whose button moves the money.
        expect(await win.evaluate<string>(`document.querySelector('#amount').textContent`)).toBe('107.90')
        await win.screenshot(`${shots}cashier.png`)
        // Press two of two: the cashier's Pay.
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

    test('the shop’s payment timeout closes the window without paying, says so, and the buyer can pay again', async ({
      page,
      browser,
    }) => {
      // Ten minutes in the shop; a page setting shortens it so the journey need not wait that long.
      await page.addInitScript(`localStorage.setItem('demo-shop-payment-timeout-ms', '3000')`)
      const orderId = await orderFromShop(page, ['celadon-cup'])
      await expect(page.locator('#pay-request')).toBeEnabled()
      await page.locator('#pay-request').click()
      const win = await findHandlerWindow(browser, page, '/pay/checkout.html')
      try {
        // The buyer reaches the cashier and then does nothing.
        await payAtCashierWindow(win, DEMO_BUYER)
      } finally {
        await win.detach()
      }
      await expect(page.locator('#pay-status')).toHaveAttribute('data-reason', 'TIMEOUT', { timeout: 20_000 })
      expect(await gatewayTrades(page, orderId).then((trades) => trades.map((t) => t.status))).not.toContain(
        'TRADE_SUCCESS',
      )
      // Not the end: the same order still waits for payment, or, when the gateway closed its
      // trade, "Order again" places the same items as a new order.
      const reorder = page.locator('#reorder')
      await expect(page.locator('#pay-request:enabled:visible, #reorder:visible')).toBeVisible()
      let payOrderId = orderId
      if (await reorder.isVisible()) {
        await expect(page.locator('#order-state')).toHaveText('Cancelled')
        await expect(page.locator('#pay-status')).toContainText('Order again')
        await reorder.click()
        await page.waitForURL((url) => url.searchParams.get('order') !== orderId)
        payOrderId = new URL(page.url()).searchParams.get('order')!
        await expect(page.locator('#order-amount')).toHaveText('¥39.90')
      }
      await page.evaluate(`localStorage.removeItem('demo-shop-payment-timeout-ms')`)
      await expect(page.locator('#pay-request')).toBeEnabled()
      await page.locator('#pay-request').click()
      const again = await findHandlerWindow(browser, page, '/pay/checkout.html')
      try {
        await payAtCashierWindow(again, DEMO_BUYER)
        await again.evaluate(`document.querySelector('#pay').click()`)
      } finally {
        await again.detach()
      }
      await expect(page.locator('#order-state')).toHaveText('Paid', { timeout: 30_000 })
      expect((await orderState(page, payOrderId)).status).toBe('success')
    })
  })
}
