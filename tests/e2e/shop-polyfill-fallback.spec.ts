import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test'
import { forgeryScript, journeyPorts, startJourneyStack, type JourneyStack } from '../support/journey-stack.js'
import { expectNoSeriousViolations } from './support/axe.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/origins.js'

/**
 * The polyfill's fallback end to end in Chromium with payment handlers switched off
 * (`--disable-blink-features=PaymentApp` removes PaymentManager, so `installAlipayPolyfill`
 * picks the popup by itself): the real shop's checkout → popup → the real checkout page →
 * signing server session → sandbox cashier → return page → CHECKOUT_DONE → show() resolves →
 * the shop's backend verifies the details. And every way it must end without a payment.
 */

const PORTS = journeyPorts('E2E_JOURNEY', { merchant: 4661, app: 4662, gateway: 4663 })
const NO_PAYMENT_HANDLERS = [...CHROMIUM_ARGS, '--disable-blink-features=PaymentApp']
const CANCELLED = 'Payment cancelled. Nothing was charged'

test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: NO_PAYMENT_HANDLERS } })

let stack: JourneyStack

test.beforeAll(async () => {
  stack = await startJourneyStack(PORTS)
})

test.afterAll(async () => {
  await stack?.close()
})

/** A new order, its checkout page open and ready to pay in fallback mode; records confirm calls. */
async function openCheckout(page: Page): Promise<{ orderId: string; confirms: Request[] }> {
  const { orderId } = await stack.placeOrder()
  const confirms: Request[] = []
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith(`/api/orders/${orderId}/confirm`)) confirms.push(request)
  })
  await page.goto(stack.checkoutUrl(orderId))
  await expect(page.locator('body')).toHaveAttribute('data-polyfill', 'fallback')
  await expect(page.locator('#pay-request')).toBeEnabled()
  return { orderId, confirms }
}

/** Clicks "Pay with Alipay" and returns the checkout popup. */
async function openPopup(page: Page): Promise<Page> {
  const popupEvent = page.waitForEvent('popup')
  await page.locator('#pay-request').click()
  const popup = await popupEvent
  expect(popup.url()).toBe(stack.popupUrl())
  return popup
}

/** The popup goes on to the sandbox cashier by itself, where the buyer can log in. */
async function goToCashier(popup: Page): Promise<void> {
  await popup.waitForURL(`${stack.urls.gateway}/**`)
  await expect(popup.locator('#login')).toBeVisible()
}

/**
 * Holds the payment app's answers to `method` requests on `path` (a RegExp) until the returned
 * function is called, so a test can look at the page that waits for them.
 */
async function hold(context: BrowserContext, method: string, path: RegExp): Promise<() => void> {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  await context.route(
    (url) => url.origin === stack.urls.app && path.test(url.pathname),
    async (route) => {
      if (route.request().method() === method) await released
      await route.continue()
    },
  )
  return release
}

/** The order is still unpaid, on the shop and at the gateway, and nobody asked the shop to confirm it. */
async function expectNoPayment(orderId: string, confirms: Request[]): Promise<void> {
  expect((await stack.order(orderId)).status).toBe('wait')
  expect((await stack.trades(orderId)).map((trade) => trade.status)).not.toContain('TRADE_SUCCESS')
  expect(confirms).toHaveLength(0)
}

test('Chromium without payment handlers pays through the polyfill popup, the shop verifies once', async ({ page }) => {
  const { orderId, confirms } = await openCheckout(page)
  expect(await page.evaluate('typeof PaymentManager')).toBe('undefined')
  const release = await hold(page.context(), 'POST', /^\/api\/sessions$/)
  const popup = await openPopup(page)
  // The window's first screen says whom and what the buyer pays, and has no Pay button of its own.
  await expect(popup.locator('body')).toHaveAttribute('data-state', 'review')
  await expect(popup.locator('main')).toContainText(stack.urls.merchant)
  await expect(popup.locator('#amount')).toHaveText(`¥${(await stack.order(orderId)).amount}`)
  await expect(popup.locator('#pay')).toHaveCount(0)
  // Focus is on the step's one action, and only the status line is announced.
  await expect(popup.locator('#cancel')).toBeFocused()
  await expect(popup.locator('#status')).toHaveText(/^Opening Alipay’s cashier…/)
  await expect(popup.locator('[aria-live]')).toHaveCount(0)
  await expectNoSeriousViolations(popup, 'checkout window, first screen')
  release()
  await goToCashier(popup)
  await popup.locator('#login').fill(stack.buyer.login)
  await popup.locator('#password').fill(stack.buyer.password)
  const confirmed = page.waitForResponse(
    (response) => response.request().method() === 'POST' && response.url().endsWith(`/api/orders/${orderId}/confirm`),
  )
  const closed = popup.waitForEvent('close')
  await popup.locator('#pay').click()

  // show() resolved with the gateway-signed details the return page got verified, and the page sent them to its backend.
  const response = await confirmed
  expect(response.status()).toBe(200)
  const sent = response.request().postDataJSON() as { details: Record<string, string> }
  expect(sent.details).toMatchObject({ out_trade_no: orderId, success: 'true', trade_status: 'TRADE_SUCCESS' })
  expect(sent.details['sign']).toBeTruthy()
  expect(((await response.json()) as { status: string }).status).toBe('success')
  await closed // complete('success') closes the popup

  await expect(page.locator('#order-state')).toHaveText('Paid')
  await expect(page.locator('#pay-status')).toContainText('Paid. Thank you!')
  const order = await stack.order(orderId)
  expect(order.status).toBe('success')
  expect(order.tradeNo).toBe(sent.details['trade_no'])
  // One trade at the gateway, paid once, and one confirm from the page.
  expect((await stack.trades(orderId)).map((trade) => trade.status)).toEqual(['TRADE_SUCCESS'])
  expect(confirms).toHaveLength(1)
})

test('the buyer closing the popup at the cashier rejects show() with AbortError and pays nothing', async ({ page }) => {
  const { orderId, confirms } = await openCheckout(page)
  const popup = await openPopup(page)
  await goToCashier(popup)
  await popup.close()
  await expect(page.locator('#pay-status')).toContainText(CANCELLED)
  await expect(page.locator('#order-state')).toHaveText('Waiting for payment')
  await expect(page.locator('#pay-request')).toBeEnabled()
  await expectNoPayment(orderId, confirms)
})

test('the buyer cancelling in the checkout rejects show() with AbortError and pays nothing', async ({ page }) => {
  const { orderId, confirms } = await openCheckout(page)
  const release = await hold(page.context(), 'POST', /^\/api\/sessions$/)
  const popup = await openPopup(page)
  const closed = popup.waitForEvent('close')
  await expect(popup.locator('body')).toHaveAttribute('data-state', 'review')
  await popup.locator('#cancel').click()
  release()
  await expect(page.locator('#pay-status')).toContainText(CANCELLED)
  await expect(page.locator('#pay-status')).toHaveAttribute('data-reason', 'cancelled')
  await closed // the polyfill closes the popup once the checkout has reported
  await expect(page.locator('#order-state')).toHaveText('Waiting for payment')
  await expectNoPayment(orderId, confirms)
  expect(await stack.trades(orderId)).toEqual([])
})

test('a blocked popup rejects show() with AbortError, opens nothing and pays nothing', async ({ page }) => {
  // Headless Chromium lets every clicked window.open() through, so the checkout page is served
  // the way a page without the right to open windows is: sandboxed without allow-popups. The
  // browser itself then refuses the window (window.open() returns null), as a popup blocker does.
  await page.route(/\/checkout\.html\?order=/, async (route) => {
    const response = await route.fetch()
    const csp = response.headers()['content-security-policy']
    await route.fulfill({
      response,
      headers: {
        ...response.headers(),
        'content-security-policy': `${csp ? `${csp}; ` : ''}sandbox allow-scripts allow-same-origin allow-forms`,
      },
    })
  })
  const popups: string[] = []
  page.on('popup', (popup) => popups.push(popup.url()))
  const { orderId, confirms } = await openCheckout(page)
  await page.locator('#pay-request').click()
  await expect(page.locator('#pay-status')).toContainText('The browser blocked the Alipay window')
  await expect(page.locator('#pay-status')).toHaveAttribute('data-reason', 'popup-blocked')
  await expect(page.locator('#pay-request')).toBeEnabled()
  expect(popups).toEqual([])
  await expectNoPayment(orderId, confirms)
  expect(await stack.trades(orderId)).toEqual([])
})

test('forged messages to the opener, from the cashier in the popup and from another app window, pay nothing', async ({
  page,
}) => {
  const { orderId, confirms } = await openCheckout(page)
  const popup = await openPopup(page)
  const paymentRequestId = await page.evaluate<string>('window.shopPayment.request.id')
  const forge = forgeryScript(paymentRequestId, orderId)
  // 1. The popup itself, now on the gateway's origin: the right window, the wrong origin.
  await goToCashier(popup)
  // Counts what reaches the shop's window from now on (the real checkout's handshake is over), so
  // the test knows the forgeries arrived and were ignored.
  await page.evaluate(`window.forgeries = 0; addEventListener('message', (e) => {
    if (e.data && e.data.type) window.forgeries++
  })`)
  await popup.evaluate(forge)
  await expect.poll(() => page.evaluate('window.forgeries')).toBe(2)
  // 2. Another window on the payment app's own origin that the shop opened: the right origin, the wrong window.
  const otherEvent = page.waitForEvent('popup')
  await page.evaluate(`void window.open(${JSON.stringify(`${stack.urls.app}/pay`)}, 'other-window')`)
  const other = await otherEvent
  await other.waitForLoadState()
  expect(new URL(other.url()).origin).toBe(stack.urls.app)
  await other.evaluate(forge)
  // Closed only once its messages arrived: a window closed at once can take them with it.
  await expect.poll(() => page.evaluate('window.forgeries')).toBe(4)
  await other.close()

  await page.waitForTimeout(1_500)
  await expect(page.locator('#pay-status')).toContainText('Waiting for Alipay')
  expect(confirms).toHaveLength(0)
  // show() is still waiting for the real checkout; the buyer gives up.
  await popup.close()
  await expect(page.locator('#pay-status')).toContainText(CANCELLED)
  await expectNoPayment(orderId, confirms)
})

test('opened at 127.0.0.1, the fallback rejects with OperationError and the reason origin-not-allowed', async ({
  page,
}) => {
  const { orderId } = await stack.placeOrder()
  const wrongOrigin = stack.urls.merchant.replace('localhost', '127.0.0.1')
  // With the order's view token in the link: another origin has none of the shop's cookies.
  await page.goto(stack.checkoutUrl(orderId).replace(stack.urls.merchant, wrongOrigin))
  await expect(page.locator('body')).toHaveAttribute('data-polyfill', 'fallback')
  await expect(page.locator('#pay-request')).toBeEnabled()
  // What the merchant's code gets: the spec's name, and the reason at the start of the message.
  await page.evaluate(`(() => {
    const original = PaymentRequest.prototype.show
    PaymentRequest.prototype.show = function (...args) {
      const shown = original.apply(this, args)
      shown.catch((error) => { window.lastError = { name: error.name, message: error.message } })
      return shown
    }
  })()`)
  const popupEvent = page.waitForEvent('popup')
  await page.locator('#pay-request').click()
  const popup = await popupEvent
  await expect(popup.locator('body')).toHaveAttribute('data-state', 'problem')
  await expect(popup.locator('body')).toHaveAttribute('data-problem', 'MERCHANT_NOT_ALLOWED')
  await expect(popup.locator('#back')).toBeFocused()
  await expect(popup.locator('#status')).toContainText('This shop can’t take Alipay here')
  await expectNoSeriousViolations(popup, 'checkout window, a problem')
  await popup.locator('#back').click()
  await expect(page.locator('#pay-status')).toHaveAttribute('data-reason', 'origin-not-allowed')
  await expect(page.locator('#pay-status')).toContainText(`does not take payments from ${wrongOrigin}`)
  expect(await page.evaluate('window.lastError')).toEqual({
    name: 'OperationError',
    message: expect.stringMatching(/^\[alipay\] origin-not-allowed: /),
  })
})

test('the return page after the cashier passes axe-core while it confirms the payment', async ({ page }) => {
  const { orderId } = await openCheckout(page)
  const release = await hold(page.context(), 'POST', /^\/api\/sessions\/[^/]+\/return$/)
  const popup = await openPopup(page)
  await goToCashier(popup)
  await popup.locator('#login').fill(stack.buyer.login)
  await popup.locator('#password').fill(stack.buyer.password)
  await popup.locator('#pay').click()
  await popup.waitForURL(`${stack.urls.app}/**`)
  await expect(popup.locator('body')).toHaveAttribute('data-state', 'confirming')
  // Only the status line speaks; focus is on the page's title, not lost with the replaced content.
  await expect(popup.locator('#status')).toHaveText('Confirming your payment…')
  await expect(popup.locator('[aria-live]')).toHaveCount(0)
  await expect(popup.locator('#title')).toBeFocused()
  await expectNoSeriousViolations(popup, 'return page, confirming')
  const closed = popup.waitForEvent('close')
  release()
  await closed
  await expect(page.locator('#order-state')).toHaveText('Paid')
  expect((await stack.order(orderId)).status).toBe('success')
})
