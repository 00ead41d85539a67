import { expect, test } from '@playwright/test'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { gatewayTrades, orderFromShop, orderState, ordersPageUrl, payByWap } from './support/shop-pages.js'
import {
  SHOP_GATEWAY_ORIGIN,
  SHOP_ORIGIN,
  GATEWAY_KINDS,
  startShopStack,
  type ShopStack,
} from './support/shop-stack.js'

// The same journeys on each gateway (docs/decisions/0003): only the partner's configuration differs.
for (const kind of GATEWAY_KINDS) {
  test.describe(`on ${kind}`, () => {
    let stack: ShopStack
    test.beforeAll(async () => {
      stack = await startShopStack({ gatewayKind: kind })
    })
    test.afterAll(async () => {
      await stack?.close()
    })

    test('the merchant refunds a paid order from the orders page', async ({ page }) => {
      const orderId = await orderFromShop(page, ['celadon-cup'])
      await payByWap(page, orderId, DEMO_BUYER)

      await page.goto(ordersPageUrl(stack))
      const row = page.locator(`tr[data-order="${orderId}"]`)
      await expect(row.locator('.badge')).toHaveText('Paid')
      page.once('dialog', (dialog) => void dialog.accept())
      await row.getByRole('button', { name: `Refund order ${orderId}` }).click()
      await expect(page.locator('#orders-status')).toHaveText(`Order ${orderId}: Refunded.`)
      await expect(row.locator('.badge')).toHaveText('Refunded')
      await expect(row.locator('.amount')).toContainText('refunded ¥39.90')
      await expect(row.getByRole('button')).toHaveCount(0)
      // The gateway took the money back, once.
      await expect.poll(async () => (await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_CLOSED'])
    })

    test('reconciliation repairs an order paid at the gateway whose notifies were all lost', async ({
      page,
      request,
    }) => {
      // Every notify delivery fails: the money is at the gateway, the shop has heard nothing.
      await request.post(`${SHOP_GATEWAY_ORIGIN}/_sandbox/faults`, { data: { dropNotifyAttempts: 8 } })
      try {
        const orderId = await orderFromShop(page, ['tea-sachet'])
        await page.locator('#pay-qr').click()
        await expect(page.locator('#qr-link')).not.toHaveAttribute('href', '#')
        const payUrl = (await page.locator('#qr-link').getAttribute('href'))!
        // On mapi the trade starts when the buyer opens the link; openapi's precreate made it already.
        if (kind === 'mapi') await (await request.get(payUrl, { maxRedirects: 0 })).dispose()
        // Leave the checkout, whose polling would ask the gateway itself.
        await page.goto(ordersPageUrl(stack))
        const paid = await request.post(`${SHOP_GATEWAY_ORIGIN}/_sandbox/triggers/pay`, {
          data: { out_trade_no: orderId },
        })
        expect(paid.ok()).toBe(true)

        const row = page.locator(`tr[data-order="${orderId}"]`)
        await expect(row.locator('.badge')).toHaveText('Waiting for payment')
        await page.locator('#reconcile').click()
        await expect(page.locator('#reconciliation-report')).toContainText(`${orderId}: MARK_PAID`)
        await expect(row.locator('.badge')).toHaveText('Paid')
        expect((await orderState(page, orderId)).status).toBe('success')
      } finally {
        await request.delete(`${SHOP_GATEWAY_ORIGIN}/_sandbox/faults`)
      }
    })

    test('the merchant cancels an unpaid order, and its checkout can no longer pay it', async ({ page }) => {
      const orderId = await orderFromShop(page, ['mooncake-box'])
      // Opening the QR's link starts a trade at the gateway, so cancelling must close it there too.
      await page.locator('#pay-qr').click()
      await expect(page.locator('#qr-link')).not.toHaveAttribute('href', '#')
      const payUrl = (await page.locator('#qr-link').getAttribute('href'))!
      const cashier = await page.context().newPage()
      await cashier.goto(payUrl)
      await expect(cashier.locator('#login')).toBeVisible()
      expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['WAIT_BUYER_PAY'])
      await cashier.close()
      const checkout = page.url()

      await page.goto(ordersPageUrl(stack))
      const row = page.locator(`tr[data-order="${orderId}"]`)
      await expect(row.locator('.badge')).toHaveText('Waiting for payment')
      await row.getByRole('button', { name: `Cancel order ${orderId}` }).focus()
      await page.keyboard.press('Enter')
      await expect(page.locator('#orders-status')).toHaveText(`Order ${orderId}: Cancelled.`)
      await expect(row.locator('.badge')).toHaveText('Cancelled')
      expect((await orderState(page, orderId)).status).toBe('close')

      await page.goto(checkout)
      await expect(page.locator('#order-state')).toHaveText('Cancelled')
      await expect(page.locator('#pay-status')).toContainText('can no longer be paid')
      await expect(page.locator('#pay-options')).toBeHidden()
      expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_CLOSED'])
    })

    test('the orders page shows a stranger nothing until the operator token is typed in', async ({ page }) => {
      const orderId = await orderFromShop(page)
      await page.goto(`${SHOP_ORIGIN}/orders.html`)
      await expect(page.locator('#server-status')).toContainText('for the shop’s operator')
      await expect(page.locator(`tr[data-order="${orderId}"]`)).toHaveCount(0)
      await page.locator('#operator-token').fill('not the token at all, not at all')
      await page.locator('#operator-login button').click()
      await expect(page.locator('#server-status')).toContainText('not the operator token')
      await page.locator('#operator-token').fill(stack.running.operatorToken)
      await page.locator('#operator-login button').click()
      await expect(page.locator(`tr[data-order="${orderId}"] .badge`)).toHaveText('Waiting for payment')
      await expect(page.locator('#operator-login')).toBeHidden()
      // The token never stays in the address bar of the banner's link either.
      await page.goto(ordersPageUrl(stack))
      await expect(page.locator(`tr[data-order="${orderId}"]`)).toHaveCount(1)
      expect(new URL(page.url()).hash).toBe('')
    })

    test('the buyer cancels from the checkout page with the keyboard', async ({ page }) => {
      const orderId = await orderFromShop(page)
      await page.locator('#cancel-order').focus()
      await page.keyboard.press('Enter')
      await expect(page.locator('#order-state')).toHaveText('Cancelled')
      await expect(page.locator('#pay-status')).toBeFocused()
      expect((await orderState(page, orderId)).status).toBe('close')
    })
  })
}
