import { expect, test } from '@playwright/test'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { findHandlerWindow } from '@alipay-payment-handler/testing'
import { expectNoSeriousViolations } from './support/axe.js'
import { orderFromShop, ordersPageUrl, payByWap } from './support/shop-pages.js'
import { SHOP_ORIGIN, SHOP_PORTS, startShopStack, type ShopStack } from './support/shop-stack.js'

/**
 * What a developer meets in the first hour with the demo shop, in Chromium with payment handlers:
 * the wrong address, a phone, the orders page's times, and axe-core on every shop page.
 */

let stack: ShopStack
test.beforeAll(async () => {
  stack = await startShopStack({ gatewayKind: 'mapi' })
})
test.afterAll(async () => {
  await stack?.close()
})

test('opened at 127.0.0.1 instead of localhost, the shop says the origin is not allowed and how to fix it', async ({
  page,
  browser,
}) => {
  const wrongOrigin = `http://127.0.0.1:${SHOP_PORTS.merchant}`
  await page.goto(`${wrongOrigin}/`)
  await page.locator('button[data-product="tea-sachet"]').click()
  await page.locator('#checkout').click()
  await page.waitForURL(/\/checkout\.html\?order=/)
  await expect(page.locator('body')).toHaveAttribute('data-polyfill', 'native')
  await expect(page.locator('#pay-request')).toBeEnabled()
  // What the merchant's own code would catch, recorded beside what the shop says.
  await page.evaluate(`(() => {
    const original = PaymentRequest.prototype.show
    PaymentRequest.prototype.show = function (...args) {
      const shown = original.apply(this, args)
      shown.catch((error) => { window.lastError = { name: error.name, message: error.message } })
      return shown
    }
  })()`)
  await page.locator('#pay-request').click()
  const win = await findHandlerWindow(browser, page, '/pay/checkout.html')
  try {
    // The payment app refuses the origin; the buyer's window says so in its own words.
    await win.waitForState('problem')
    expect(await win.evaluate<string>('document.body.dataset.problem')).toBe('MERCHANT_NOT_ALLOWED')
    await win.click('#back')
  } finally {
    await win.detach()
  }
  // The page reads the stable reason from the error, not "Something went wrong (OperationError)".
  const status = page.locator('#pay-status')
  await expect(status).toHaveAttribute('data-reason', 'origin-not-allowed')
  // The spec's name for a failure of the payment handler, and the reason at the start of the message.
  expect(await page.evaluate('window.lastError')).toEqual({
    name: 'OperationError',
    message: expect.stringMatching(/^\[alipay\] origin-not-allowed: /),
  })
  await expect(status).toContainText(`does not take payments from ${wrongOrigin}`)
  await expect(status).toContainText(`Open the shop at http://localhost:${SHOP_PORTS.merchant} instead`)
  await expect(status).toContainText('ALIPAY_ALLOWED_ORIGINS')
  await expect(status).not.toContainText('OperationError')
  await expect(page.locator('#pay-request')).toBeEnabled()
})

test('on a phone, "Add to cart" shows at once: the count in the header and a message with the right count', async ({
  browser,
}) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  try {
    const page = await phone.newPage()
    await page.goto(`${SHOP_ORIGIN}/`)
    const count = page.locator('#cart-count')
    await expect(count).toHaveText('0')
    // The third product sits below the first screen; the buyer scrolled to it.
    await page.locator('button[data-product="celadon-cup"]').tap()
    await page.locator('button[data-product="celadon-cup"]').tap()
    const third = page.locator('button[data-product="longjing-tea"]')
    await third.scrollIntoViewIfNeeded()
    await third.tap()
    // Three pieces in two lines: the count says 3, and so does the message.
    await expect(count).toHaveText('3')
    await expect(count).toBeInViewport()
    await expect(page.locator('#added-status')).toHaveText(/^Added .+\. 3 items in your cart\.$/)
    await expect(page.locator('#added-status')).toBeInViewport()
    await expect(page.locator('#cart-lines li')).toHaveCount(2)
  } finally {
    await phone.close()
  }
})

test('the orders page names the time zone of its times and gives the Beijing time Alipay and the sandbox use', async ({
  browser,
}) => {
  const paris = await browser.newContext({ timezoneId: 'Europe/Paris', locale: 'en-GB' })
  try {
    const page = await paris.newPage()
    const orderId = await orderFromShop(page, ['tea-sachet'])
    await page.goto(ordersPageUrl(stack))
    const row = page.locator(`tr[data-order="${orderId}"]`)
    // December: Paris is on CET (UTC+1), Beijing on UTC+8, seven hours ahead.
    const local = await row.locator('time.created').textContent()
    expect(local).toMatch(/\d{2}:\d{2}:\d{2}( [AP]M)? (CET|CEST|GMT\+1|GMT\+2)$/)
    const beijing = await row.locator('.beijing').textContent()
    expect(beijing).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} Beijing time$/)
    const created = (await row.locator('time.created').getAttribute('datetime'))!
    const expected = new Date(Date.parse(created) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')
    expect(beijing).toBe(`${expected} Beijing time`)
    await expect(page.locator('#time-zone')).toHaveText('Europe/Paris')
  } finally {
    await paris.close()
  }
})

test('axe-core finds nothing serious on any shop page: shop, checkout, orders, return', async ({ page }) => {
  await page.goto(`${SHOP_ORIGIN}/`)
  await expect(page.locator('#products li')).not.toHaveCount(0)
  await expectNoSeriousViolations(page, 'the shop, empty cart')
  await page.locator('button[data-product="celadon-cup"]').click()
  await expect(page.locator('#added-status')).not.toBeEmpty()
  await expectNoSeriousViolations(page, 'the shop, one item added')

  const orderId = await orderFromShop(page, ['tea-sachet'])
  await expect(page.locator('#pay-request')).toBeEnabled()
  await expectNoSeriousViolations(page, 'checkout, waiting for payment')
  await page.locator('#pay-qr').click()
  await expect(page.locator('#qr')).toBeVisible()
  await expectNoSeriousViolations(page, 'checkout, QR code shown')

  await payByWap(page, orderId, DEMO_BUYER)
  await expectNoSeriousViolations(page, 'checkout, paid')

  await page.goto(ordersPageUrl(stack))
  await expect(page.locator(`tr[data-order="${orderId}"] .badge`)).toHaveText('Paid')
  await page.locator(`tr[data-order="${orderId}"] summary`).click()
  await expectNoSeriousViolations(page, 'orders')

  await page.goto(`${SHOP_ORIGIN}/return.html`)
  await expect(page.locator('#return-status')).toContainText('no order number')
  await expectNoSeriousViolations(page, 'return page')
})
