import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { forgeryScript, journeyPorts, startJourneyStack, type JourneyStack } from '../support/journey-stack.js'

/**
 * The whole journey in Debian's Firefox ESR (no PaymentRequest: the polyfill's fallback) against
 * the real stack: the shop's checkout → popup → the real checkout page → signing server session
 * → sandbox cashier → return page → show() resolves → the shop's backend verifies. The popup
 * blocker is on, as in a buyer's Firefox (Puppeteer switches it off by default).
 */
const FIREFOX_PATH = process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr'
const PORTS = journeyPorts('BROWSERS_JOURNEY', { merchant: 4671, app: 4672, gateway: 4673 })
const CANCELLED = 'Payment cancelled. Nothing was charged'
const WAIT_MS = 15_000

let stack: JourneyStack
let browser: Browser

function launch(prefs: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: { 'dom.disable_open_during_load': true, ...prefs },
  })
}

beforeAll(async () => {
  ;[stack, browser] = await Promise.all([startJourneyStack(PORTS), launch()])
})

afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

const text = (page: Page, selector: string) =>
  page.$eval(selector, (element) => element.textContent ?? '').catch(() => '')

/** Waits until the element's text contains `expected`, and says what it was when it never did. */
async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  let last = ''
  while (Date.now() < deadline) {
    last = await text(page, selector)
    if (last.includes(expected)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${selector} never said "${expected}"; it said "${last}"`)
}

/** A new order and its checkout page, ready to pay; counts the page's confirm calls. */
async function openCheckout(on: Browser = browser): Promise<{ page: Page; orderId: string; confirms: string[] }> {
  const { orderId } = await stack.placeOrder()
  const page = await on.newPage()
  const confirms: string[] = []
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith(`/api/orders/${orderId}/confirm`)) {
      confirms.push(request.url())
    }
  })
  await page.goto(stack.checkoutUrl(orderId))
  await page.waitForSelector('body[data-polyfill="fallback"]', { timeout: WAIT_MS })
  await page.waitForSelector('#pay-request:not([disabled])', { timeout: WAIT_MS })
  return { page, orderId, confirms }
}

/** Clicks "Pay with Alipay" and returns the checkout popup. */
async function openPopup(page: Page): Promise<Page> {
  const popupEvent = new Promise<Page | null>((resolve) => page.once('popup', resolve))
  await page.click('#pay-request')
  const popup = await popupEvent
  if (!popup) throw new Error('no popup')
  return popup
}

/** The checkout goes on to the cashier by itself: no press of its own between the shop's and the cashier's. */
async function goToCashier(popup: Page): Promise<void> {
  await popup.waitForSelector('#login', { timeout: WAIT_MS })
  expect(new URL(popup.url()).origin).toBe(stack.urls.gateway)
}

async function expectNoPayment(orderId: string, confirms: string[]): Promise<void> {
  expect((await stack.order(orderId)).status).toBe('wait')
  expect((await stack.trades(orderId)).map((trade) => trade.status)).not.toContain('TRADE_SUCCESS')
  expect(confirms).toEqual([])
}

test('Firefox pays through the polyfill popup and the real cashier, and the shop verifies it once', async () => {
  const { page, orderId, confirms } = await openCheckout()
  expect(await page.evaluate('typeof PaymentManager')).toBe('undefined')
  const popup = await openPopup(page)
  await goToCashier(popup)
  await popup.type('#login', stack.buyer.login)
  await popup.type('#password', stack.buyer.password)
  const confirmed = page.waitForResponse(
    (response) => response.request().method() === 'POST' && response.url().endsWith(`/api/orders/${orderId}/confirm`),
    { timeout: WAIT_MS },
  )
  const closed = new Promise<void>((resolve) => popup.once('close', () => resolve()))
  await popup.click('#pay')
  const response = await confirmed
  expect(response.status()).toBe(200)
  // The backend answers 200 with the paid order only after verifying what show() resolved with.
  const paid = (await response.json()) as { status: string; tradeNo: string }
  expect(paid.status).toBe('success')

  await waitForText(page, '#pay-status', 'Paid. Thank you!')
  expect(await text(page, '#order-state')).toBe('Paid')
  const order = await stack.order(orderId)
  expect(order.status).toBe('success')
  expect(order.tradeNo).toBe(paid.tradeNo)
  expect((await stack.trades(orderId)).map((trade) => trade.status)).toEqual(['TRADE_SUCCESS'])
  expect(confirms).toHaveLength(1)
  // complete('success') closes the popup.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, WAIT_MS))])
  expect(popup.isClosed()).toBe(true)
  await page.close()
})

test('the buyer closing the popup at the cashier rejects show() with AbortError and pays nothing', async () => {
  const { page, orderId, confirms } = await openCheckout()
  const popup = await openPopup(page)
  await goToCashier(popup)
  await popup.close()
  await waitForText(page, '#pay-status', CANCELLED)
  await page.waitForSelector('#pay-request:not([disabled])', { timeout: WAIT_MS })
  await expectNoPayment(orderId, confirms)
  await page.close()
})

test('opened at 127.0.0.1, show() rejects with OperationError and the reason origin-not-allowed', async () => {
  const { orderId } = await stack.placeOrder()
  const wrongOrigin = stack.urls.merchant.replace('localhost', '127.0.0.1')
  const page = await browser.newPage()
  // With the order's view token in the link: another origin has none of the shop's cookies.
  await page.goto(stack.checkoutUrl(orderId).replace(stack.urls.merchant, wrongOrigin))
  await page.waitForSelector('body[data-polyfill="fallback"] #pay-request:not([disabled])', { timeout: WAIT_MS })
  // What the merchant's own code would catch, recorded beside what the shop says.
  await page.evaluate(`(() => {
    const original = PaymentRequest.prototype.show
    PaymentRequest.prototype.show = function (...args) {
      const shown = original.apply(this, args)
      shown.catch((error) => { window.lastError = error.name + ' ' + error.message })
      return shown
    }
  })()`)
  const popup = await openPopup(page)
  await popup.waitForSelector('body[data-problem="MERCHANT_NOT_ALLOWED"] #back', { timeout: WAIT_MS })
  await popup.click('#back')
  await waitForText(page, '#pay-status', `does not take payments from ${wrongOrigin}`)
  expect(await page.$eval('#pay-status', (status) => status.getAttribute('data-reason'))).toBe('origin-not-allowed')
  expect(await page.evaluate('window.lastError')).toMatch(/^OperationError \[alipay\] origin-not-allowed: /)
  await expectNoPayment(orderId, [])
  await page.close()
})

test('a blocked popup rejects show() with AbortError, opens nothing and pays nothing', async () => {
  // Firefox lets a clicked window.open() through whatever its prefs say, so the checkout page is
  // served the way a page without the right to open windows is: sandboxed without allow-popups.
  // Firefox itself then refuses the window (window.open() returns null), as a popup blocker does.
  const { orderId } = await stack.placeOrder()
  const page = await browser.newPage()
  await page.setRequestInterception(true)
  page.on('request', (request) => {
    if (!request.url().startsWith(stack.checkoutUrl(orderId))) return void request.continue()
    void fetch(request.url()).then(async (response) => {
      const headers = Object.fromEntries(response.headers)
      const csp = headers['content-security-policy']
      headers['content-security-policy'] = `${csp ? `${csp}; ` : ''}sandbox allow-scripts allow-same-origin allow-forms`
      delete headers['content-length']
      await request.respond({ status: response.status, headers, body: await response.text() })
    })
  })
  const popups: string[] = []
  page.on('popup', (popup) => popups.push(popup?.url() ?? 'unknown'))
  await page.goto(stack.checkoutUrl(orderId))
  await page.waitForSelector('body[data-polyfill="fallback"] #pay-request:not([disabled])', { timeout: WAIT_MS })
  await page.click('#pay-request')
  await waitForText(page, '#pay-status', 'The browser blocked the Alipay window')
  expect(await page.$eval('#pay-status', (status) => status.getAttribute('data-reason'))).toBe('popup-blocked')
  await page.waitForSelector('#pay-request:not([disabled])', { timeout: WAIT_MS })
  expect(popups).toEqual([])
  expect((await browser.pages()).map((open) => open.url())).not.toContain(stack.popupUrl())
  await expectNoPayment(orderId, [])
  expect(await stack.trades(orderId)).toEqual([])
  await page.close()
})

test('forged messages to the opener, from the cashier in the popup and from another app window, pay nothing', async () => {
  const { page, orderId, confirms } = await openCheckout()
  const popup = await openPopup(page)
  const forge = forgeryScript(await page.evaluate<[], () => string>('window.shopPayment.request.id'), orderId)
  // The popup on the gateway's origin (right window, wrong origin)…
  await goToCashier(popup)
  // Counts what reaches the shop's window from now on (the checkout's own handshake is over).
  await page.evaluate(`window.forgeries = 0; addEventListener('message', (e) => {
    if (e.data && e.data.type) window.forgeries++
  })`)
  await popup.evaluate(forge)
  // …and another window on the payment app's origin (right origin, wrong window), opened by a click
  // (Firefox refuses a window.open() from evaluate once the page has spent its activation).
  await page.evaluate(`(() => {
    const button = document.createElement('button')
    button.id = 'open-other'
    button.textContent = 'other'
    button.onclick = () => window.open(${JSON.stringify(`${stack.urls.app}/pay`)}, 'other-window')
    document.body.prepend(button)
  })()`)
  const otherEvent = new Promise<Page | null>((resolve) => page.once('popup', resolve))
  await page.click('#open-other')
  const other = await otherEvent
  if (!other) throw new Error('no second window')
  await other.waitForFunction(`location.origin === ${JSON.stringify(stack.urls.app)}`, { timeout: WAIT_MS })
  await other.evaluate(forge)
  // Closed only once its messages arrived: a window closed at once can take them with it.
  const deadline = Date.now() + WAIT_MS
  while ((await page.evaluate('window.forgeries')) !== 4 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(await page.evaluate('window.forgeries')).toBe(4)
  await other.close()
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  expect(await text(page, '#pay-status')).toContain('Waiting for Alipay')
  expect(confirms).toEqual([])
  await popup.close()
  await waitForText(page, '#pay-status', CANCELLED)
  await expectNoPayment(orderId, confirms)
  await page.close()
})
