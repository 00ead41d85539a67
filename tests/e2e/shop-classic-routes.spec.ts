import { devices, expect, test } from '@playwright/test'

/** A phone-sized viewport with touch; only the viewport parts of the device (same browser). */
const { viewport, deviceScaleFactor, isMobile, hasTouch, userAgent } = devices['Pixel 7']
const PHONE = { viewport, deviceScaleFactor, isMobile, hasTouch, userAgent }
import QRCode from 'qrcode'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { screenshotDir, gatewayTrades, orderFromShop, orderState, payAtCashierPage } from './support/shop-pages.js'
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
    const shots = screenshotDir(kind)
    let stack: ShopStack
    test.beforeAll(async () => {
      stack = await startShopStack({ gatewayKind: kind })
    })
    test.afterAll(async () => {
      await stack?.close()
    })

    test('pays by QR code: the buyer’s phone scans it and the checkout flips to paid by itself', async ({
      page,
      browser,
    }) => {
      const orderId = await orderFromShop(page, ['mooncake-box'])
      await page.locator('#pay-qr').click()
      const image = page.locator('#qr-image')
      await expect(image).toBeVisible()
      await expect(image).toHaveAttribute('alt', `QR code to pay order ${orderId} with Alipay`)
      await expect(page.locator('#pay-status')).toContainText('Waiting for payment')
      // The image encodes exactly the gateway link next to it: mapi's cashier, or openapi's precreate qr_code.
      await expect(page.locator('#qr-link')).not.toHaveAttribute('href', '#')
      const payUrl = (await page.locator('#qr-link').getAttribute('href'))!
      expect(payUrl.startsWith(`${SHOP_GATEWAY_ORIGIN}${kind === 'mapi' ? '/gateway.do?' : '/qr/'}`)).toBe(true)
      expect(await image.getAttribute('src')).toBe(
        await QRCode.toDataURL(payUrl, { errorCorrectionLevel: 'M', margin: 1 }),
      )
      await page.screenshot({ path: `${shots}checkout-qr.png`, fullPage: true })

      // The phone: opens what the QR says, reaches the sandbox's phone page, and pays there.
      const phone = await browser.newContext(PHONE)
      try {
        const phonePage = await phone.newPage()
        await phonePage.goto(payUrl)
        if (kind === 'mapi') {
          // mapi's link is the desktop cashier, which shows the phone page's link; openapi's code is the scan.
          const phoneLink = (await phonePage.locator('#phone-link').getAttribute('href'))!
          await phonePage.goto(new URL(phoneLink, SHOP_GATEWAY_ORIGIN).href)
        }
        await payAtCashierPage(phonePage, DEMO_BUYER)
        await expect(phonePage.locator('#result')).toContainText('Paid')
      } finally {
        await phone.close()
      }

      // Nobody touches the checkout page: the gateway's notify pays the order and polling shows it.
      await expect(page.locator('#order-state')).toHaveText('Paid', { timeout: 20_000 })
      await expect(page.locator('#pay-status')).toContainText('Paid. Thank you!')
      await expect(page.locator('#qr')).toBeHidden()
      const order = await orderState(page, orderId)
      expect(order.status).toBe('success')
      expect(order.notifies.length).toBeGreaterThan(0)
      expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_SUCCESS'])
    })

    test.describe('on a phone', () => {
      test.use(PHONE)

      test('pays with the mobile form (WAP_PAY) and comes back to a paid order', async ({ page }) => {
        const orderId = await orderFromShop(page, ['tea-sachet', 'tea-sachet'])
        await expect(page.locator('#order-amount')).toHaveText('¥0.02')
        await page.screenshot({ path: `${shots}checkout-mobile.png`, fullPage: true })
        await page.locator('#pay-wap').click()
        await page.waitForURL(`${SHOP_GATEWAY_ORIGIN}/**`)
        await expect(page.locator('#amount')).toHaveText('0.02')
        await page.locator('#login').fill(DEMO_BUYER.login)
        await page.locator('#password').fill(DEMO_BUYER.password)
        await page.screenshot({ path: `${shots}cashier-mobile.png`, fullPage: true })
        await page.locator('#pay').click()

        // return_url → /return.html → the checkout page, which asks the backend, which asks the gateway.
        await page.waitForURL(`${SHOP_ORIGIN}/checkout.html?order=${orderId}&returned=1`)
        await expect(page.locator('#order-state')).toHaveText('Paid')
        await expect(page.locator('#pay-status')).toBeFocused()
        expect((await orderState(page, orderId)).status).toBe('success')
        expect((await gatewayTrades(page, orderId)).map((t) => t.status)).toEqual(['TRADE_SUCCESS'])
      })

      test('a declined payment says so at the cashier and leaves the order payable', async ({ page }) => {
        const orderId = await orderFromShop(page, ['mooncake-box'])
        await page.locator('#pay-wap').click()
        await page.waitForURL(`${SHOP_GATEWAY_ORIGIN}/**`)
        await page.locator('#login').fill('poor@demo.example')
        await page.locator('#password').fill('alipay-demo')
        await page.locator('#pay').click()
        await expect(page.locator('#message')).toBeVisible()
        await page.locator('#cancel').click()
        // The cashier's way back is show_url, the shop; the order is still there, unpaid and payable.
        await page.waitForURL(`${SHOP_ORIGIN}/`)
        await page.goto(`${SHOP_ORIGIN}/checkout.html?order=${orderId}`)
        await expect(page.locator('#order-state')).toHaveText('Waiting for payment')
        await expect(page.locator('#pay-wap')).toBeEnabled()
      })
    })
  })
}
