import { expect, test, type Page } from '@playwright/test'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { findHandlerWindow } from '@alipay-payment-handler/testing'
import { gatewayTrades, orderFromShop, orderState, payAtCashierPage, payAtCashierWindow } from './support/shop-pages.js'
import { SHOP_GATEWAY_ORIGIN, SHOP_ORIGIN, startShopStack, type ShopStack } from './support/shop-stack.js'

let stack: ShopStack
test.beforeAll(async () => {
  stack = await startShopStack()
})
test.afterAll(async () => {
  await stack?.close()
})

/** The order cannot be paid a second time: every way to pay it is refused. */
async function expectNotPayableAgain(page: Page, orderId: string): Promise<void> {
  const again = await page.request.post(`${SHOP_ORIGIN}/api/orders/${orderId}/pay-url`, {
    data: { payType: 'PRE_PAY' },
  })
  expect(again.status()).toBe(409)
  expect(await again.json()).toMatchObject({ code: 'ORDER_STATE_CONFLICT' })
  expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_SUCCESS'])
}

test('all three servers restart while the buyer is at the cashier; the payment still completes, once', async ({
  page,
  browser,
}) => {
  const orderId = await orderFromShop(page, ['longjing-tea'])
  await expect(page.locator('#pay-request')).toBeEnabled()
  await page.locator('#pay-request').click()
  const win = await findHandlerWindow(browser, page, '/pay/checkout.html')
  try {
    await payAtCashierWindow(win, DEMO_BUYER)

    // Gateway, payment app and shop all go down and come back on the same data.
    await stack.restart()

    await win.evaluate(`document.querySelector('#pay').click()`)
  } finally {
    await win.detach()
  }
  await expect(page.locator('#order-state')).toHaveText('Paid', { timeout: 30_000 })
  expect((await orderState(page, orderId)).status).toBe('success')
  await expectNotPayableAgain(page, orderId)
})

test('while the servers are down the checkout says so, and it recovers by itself when they are back', async ({
  page,
  browser,
}) => {
  const orderId = await orderFromShop(page, ['celadon-cup'])
  await page.locator('#pay-qr').click()
  // The link is '#' until the gateway's answer arrives.
  await expect(page.locator('#qr-link')).not.toHaveAttribute('href', '#')
  const payUrl = (await page.locator('#qr-link').getAttribute('href'))!
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  try {
    const phonePage = await phone.newPage()
    await phonePage.goto(payUrl)
    const phoneLink = (await phonePage.locator('#phone-link').getAttribute('href'))!

    await stack.stop()
    const notice = page.locator('#server-status')
    await expect(notice).toBeVisible()
    await expect(notice).toHaveText(/server cannot be reached/)
    // A click while the server is down explains itself instead of failing silently.
    await page.locator('#pay-wap').click()
    await expect(page.locator('#pay-status')).toHaveText(/server cannot be reached/)
    await expect(page.locator('#order-state')).toHaveText('Waiting for payment')

    await stack.start()
    await expect(notice).toBeHidden()
    await phonePage.goto(new URL(phoneLink, SHOP_GATEWAY_ORIGIN).href)
    await payAtCashierPage(phonePage, DEMO_BUYER)
    await expect(phonePage.locator('#result')).toContainText('Paid')
  } finally {
    await phone.close()
  }
  await expect(page.locator('#order-state')).toHaveText('Paid', { timeout: 20_000 })
  await expectNotPayableAgain(page, orderId)
})
