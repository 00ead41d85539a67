import { expect, test, type Page } from '@playwright/test'
import { expectNoSeriousViolations } from './support/axe.js'
import { gatewayTrades, ordersPageUrl } from './support/shop-pages.js'
import { SHOP_ORIGIN, startShopStack, type ShopStack } from './support/shop-stack.js'

// The counter needs alipay.trade.pay, an openapi method: the shop runs as the openapi demo app.
test.describe('the counter page (barcode payment, openapi)', () => {
  let stack: ShopStack
  test.beforeAll(async () => {
    stack = await startShopStack({ gatewayKind: 'openapi' })
  })
  test.afterAll(async () => {
    await stack?.close()
  })

  const charge = async (page: Page, amount: string, code: string) => {
    await page.goto(`${SHOP_ORIGIN}/counter.html`)
    await page.getByLabel('Amount (¥)').fill(amount)
    // A scanner types the digits and Enter.
    await page.getByLabel('Buyer’s payment code').fill(code)
    await page.getByLabel('Buyer’s payment code').press('Enter')
  }
  const orderIdOf = async (page: Page) =>
    /Order (\S+),/.exec((await page.locator('#counter-order').textContent()) ?? '')![1]!

  test('a plain code is paid at once, and the order is paid in the shop and at the gateway', async ({ page }) => {
    await charge(page, '18.80', '281000000000000001')
    await expect(page.locator('#counter-status')).toHaveAttribute('data-stage', 'paid')
    await expect(page.locator('#counter-order')).toContainText('¥18.80')
    const orderId = await orderIdOf(page)
    expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_SUCCESS'])
    await page.goto(ordersPageUrl(stack))
    await expect(page.locator(`tr[data-order="${orderId}"] .badge`)).toHaveText('Paid')
  })

  test('a password code waits for the buyer, then the query finds it paid', async ({ page }) => {
    await charge(page, '2.00', '281000000000003001')
    // The backend queries every 5 s: the first query finds the buyer confirmed.
    await expect(page.locator('#counter-status')).toHaveAttribute('data-stage', 'paid', { timeout: 20_000 })
  })

  test('the cashier cancels while the buyer has not confirmed: the trade is closed', async ({ page }) => {
    await charge(page, '3.00', '281000000000003000')
    await expect(page.locator('#counter-status')).toHaveAttribute('data-stage', 'waiting-for-password')
    await expectNoSeriousViolations(page, 'counter')
    await page.getByRole('button', { name: 'Cancel payment' }).click()
    await expect(page.locator('#counter-status')).toHaveAttribute('data-stage', 'cancelled')
    const orderId = await orderIdOf(page)
    expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_CLOSED'])
  })

  test('a refused code shows the sub-code, and the counter can charge again', async ({ page }) => {
    await charge(page, '4.00', '281000000000004002')
    await expect(page.locator('#counter-status')).toHaveAttribute('data-stage', 'failed')
    await expect(page.locator('#counter-status')).toContainText('ACQ.BUYER_BALANCE_NOT_ENOUGH')
    await expect(page.locator('#counter-pay')).toBeEnabled()
    await page.getByLabel('Buyer’s payment code').fill('not a code')
    await page.getByRole('button', { name: 'Charge' }).click()
    await expect(page.locator('#counter-status')).toContainText('That is not a payment code')
  })
})
