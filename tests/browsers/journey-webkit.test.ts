import { By, until, type WebDriver } from 'selenium-webdriver'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { forgeryScript, journeyPorts, startJourneyStack, type JourneyStack } from '../support/journey-stack.js'
import { startWebKitDriver, type WebKitDriverHost } from './webkit-session.js'

/**
 * The whole journey in WebKitGTK's MiniBrowser (Safari's engine, no PaymentRequest: the
 * polyfill's fallback) against the real stack: the shop's checkout → popup → the real checkout
 * page → signing server session → sandbox cashier → return page → show() resolves → the shop's
 * backend verifies. Its popup blocker is Safari's, left on.
 */
const PORTS = journeyPorts('BROWSERS_JOURNEY', { merchant: 4671, app: 4672, gateway: 4673 })
const CANCELLED = 'Payment cancelled. Nothing was charged'
const WAIT_MS = 15_000

// Records the bodies the page POSTs to /confirm: WebDriver classic cannot watch the network.
const RECORD_CONFIRMS = `window.confirms = []
const pageFetch = window.fetch
window.fetch = (input, init) => {
  if (String(input).endsWith('/confirm')) window.confirms.push(String(init && init.body))
  return pageFetch(input, init)
}`

let stack: JourneyStack
let host: WebKitDriverHost
let driver: WebDriver | undefined

beforeAll(async () => {
  ;[stack, host] = await Promise.all([startJourneyStack(PORTS), startWebKitDriver()])
})

afterEach(async () => {
  await driver?.quit().catch(() => {})
  driver = undefined
})

afterAll(async () => {
  await host?.stop()
  await stack?.close()
})

/** A new order, its checkout page open in a fresh session and ready to pay. */
async function openCheckout(): Promise<{ session: WebDriver; shop: string; orderId: string }> {
  const { orderId } = await stack.placeOrder()
  driver = await host.newSession()
  const session = driver
  await session.get(stack.checkoutUrl(orderId))
  await session.wait(until.elementLocated(By.css('body[data-polyfill="fallback"]')), WAIT_MS)
  await session.wait(until.elementLocated(By.css('#pay-request:not([disabled])')), WAIT_MS)
  await session.executeScript(RECORD_CONFIRMS)
  return { session, shop: await session.getWindowHandle(), orderId }
}

/** Waits for one more window than `known`, and switches to it. */
async function switchToNewWindow(session: WebDriver, known: readonly string[]): Promise<string> {
  let handle: string | undefined
  await session.wait(async () => {
    handle = (await session.getAllWindowHandles()).find((candidate) => !known.includes(candidate))
    return handle !== undefined
  }, WAIT_MS)
  await session.switchTo().window(handle ?? '')
  return handle ?? ''
}

/** Clicks "Pay with Alipay" and switches to the checkout popup. */
async function openPopup(session: WebDriver, shop: string): Promise<string> {
  await session.findElement(By.id('pay-request')).click()
  return switchToNewWindow(session, [shop])
}

/** The checkout goes on to the cashier by itself: no press of its own between the shop's and the cashier's. */
async function goToCashier(session: WebDriver): Promise<void> {
  await session.wait(until.urlContains(`${stack.urls.gateway}/`), WAIT_MS)
  await session.wait(until.elementLocated(By.id('login')), WAIT_MS)
}

/** Waits (on the shop's window) until the payment status says `expected`. */
async function waitForStatus(session: WebDriver, expected: string): Promise<void> {
  const status = await session.findElement(By.id('pay-status'))
  await session
    .wait(async () => (await status.getText()).includes(expected), WAIT_MS)
    .catch(async () => {
      throw new Error(`#pay-status never said "${expected}"; it said "${await status.getText()}"`)
    })
}

async function expectNoPayment(session: WebDriver, orderId: string): Promise<void> {
  expect((await stack.order(orderId)).status).toBe('wait')
  expect((await stack.trades(orderId)).map((trade) => trade.status)).not.toContain('TRADE_SUCCESS')
  expect(await session.executeScript('return window.confirms')).toEqual([])
}

test('WebKit pays through the polyfill popup and the real cashier, and the shop verifies it once', async () => {
  const { session, shop, orderId } = await openCheckout()
  expect(await session.executeScript('return typeof PaymentManager')).toBe('undefined')
  await openPopup(session, shop)
  await goToCashier(session)
  await session.findElement(By.id('login')).sendKeys(stack.buyer.login)
  await session.findElement(By.id('password')).sendKeys(stack.buyer.password)
  await session.findElement(By.id('pay')).click()
  // complete('success') closes the popup once the shop has verified the payment.
  await session.wait(async () => (await session.getAllWindowHandles()).length === 1, WAIT_MS)
  await session.switchTo().window(shop)
  await waitForStatus(session, 'Paid. Thank you!')
  expect(await session.findElement(By.id('order-state')).getText()).toBe('Paid')

  // show() resolved with the gateway-signed details, which the page sent to its backend once.
  const confirms = (await session.executeScript('return window.confirms')) as string[]
  expect(confirms).toHaveLength(1)
  const sent = JSON.parse(confirms[0] ?? '{}') as { details: Record<string, string> }
  expect(sent.details).toMatchObject({ out_trade_no: orderId, success: 'true', trade_status: 'TRADE_SUCCESS' })
  const order = await stack.order(orderId)
  expect(order.status).toBe('success')
  expect(order.tradeNo).toBe(sent.details['trade_no'])
  expect((await stack.trades(orderId)).map((trade) => trade.status)).toEqual(['TRADE_SUCCESS'])
})

test('the buyer closing the popup at the cashier rejects show() with AbortError and pays nothing', async () => {
  const { session, shop, orderId } = await openCheckout()
  await openPopup(session, shop)
  await goToCashier(session)
  await session.close()
  await session.switchTo().window(shop)
  await waitForStatus(session, CANCELLED)
  await session.wait(until.elementLocated(By.css('#pay-request:not([disabled])')), WAIT_MS)
  await expectNoPayment(session, orderId)
})

test('opened at 127.0.0.1, show() rejects with OperationError and the reason origin-not-allowed', async () => {
  const { orderId } = await stack.placeOrder()
  const wrongOrigin = stack.urls.merchant.replace('localhost', '127.0.0.1')
  driver = await host.newSession()
  const session = driver
  // With the order's view token in the link: another origin has none of the shop's cookies.
  await session.get(stack.checkoutUrl(orderId).replace(stack.urls.merchant, wrongOrigin))
  await session.wait(
    until.elementLocated(By.css('body[data-polyfill="fallback"] #pay-request:not([disabled])')),
    WAIT_MS,
  )
  const shop = await session.getWindowHandle()
  // What the merchant's own code would catch, recorded beside what the shop says.
  await session.executeScript(`
    const original = PaymentRequest.prototype.show
    PaymentRequest.prototype.show = function (...args) {
      const shown = original.apply(this, args)
      shown.catch((error) => { window.lastError = error.name + ' ' + error.message })
      return shown
    }`)
  await openPopup(session, shop)
  await session.wait(until.elementLocated(By.css('body[data-problem="MERCHANT_NOT_ALLOWED"] #back')), WAIT_MS)
  await session.findElement(By.id('back')).click()
  await session.wait(async () => (await session.getAllWindowHandles()).length === 1, WAIT_MS)
  await session.switchTo().window(shop)
  await waitForStatus(session, `does not take payments from ${wrongOrigin}`)
  expect(await session.findElement(By.id('pay-status')).getAttribute('data-reason')).toBe('origin-not-allowed')
  expect(await session.executeScript('return window.lastError')).toMatch(
    /^OperationError \[alipay\] origin-not-allowed: /,
  )
  expect((await stack.order(orderId)).status).toBe('wait')
})

test('a popup Safari blocks (show() 1.6 s after the click) rejects with AbortError and pays nothing', async () => {
  const { session, orderId } = await openCheckout()
  // The shop's own handler runs 1.6 s after the buyer's click, as in a page that awaited before
  // show(): the page still has activation, but WebKit's blocker refuses the window.
  await session.executeScript(`
    const button = document.querySelector('#pay-request')
    button.addEventListener('click', (event) => {
      if (!event.isTrusted) return
      event.stopImmediatePropagation()
      setTimeout(() => button.click(), 1600)
    }, { capture: true, once: true })`)
  await session.findElement(By.id('pay-request')).click()
  await waitForStatus(session, 'The browser blocked the Alipay window')
  expect(await session.findElement(By.id('pay-status')).getAttribute('data-reason')).toBe('popup-blocked')
  expect(await session.getAllWindowHandles()).toHaveLength(1)
  await expectNoPayment(session, orderId)
  expect(await stack.trades(orderId)).toEqual([])
})

test('forged messages to the opener, from the cashier in the popup and from another app window, pay nothing', async () => {
  const { session, shop, orderId } = await openCheckout()
  const popup = await openPopup(session, shop)
  // The popup goes on to the gateway's origin (right window, wrong origin)…
  await goToCashier(session)
  await session.switchTo().window(shop)
  // Counts what reaches the shop's window from now on (the checkout's own handshake is over).
  await session.executeScript(`window.forgeries = 0; addEventListener('message', (e) => {
    if (e.data && e.data.type) window.forgeries++
  })`)
  const forge = forgeryScript(String(await session.executeScript('return window.shopPayment.request.id')), orderId)
  await session.switchTo().window(popup)
  await session.executeScript(forge)
  // …and another window on the payment app's origin (right origin, wrong window), opened by a click.
  await session.switchTo().window(shop)
  await session.executeScript(`
    const button = document.createElement('button')
    button.id = 'open-other'
    button.textContent = 'other'
    button.onclick = () => window.open(${JSON.stringify(`${stack.urls.app}/pay`)}, 'other-window')
    document.body.prepend(button)`)
  await session.findElement(By.id('open-other')).click()
  await switchToNewWindow(session, [shop, popup])
  await session.wait(until.urlContains(`${stack.urls.app}/pay`), WAIT_MS)
  await session.executeScript(forge)
  // Closed only once its messages arrived: a window closed at once can take them with it.
  const other = await session.getWindowHandle()
  await session.switchTo().window(shop)
  await session.wait(async () => (await session.executeScript('return window.forgeries')) === 4, WAIT_MS)
  await session.switchTo().window(other)
  await session.close()
  await session.switchTo().window(shop)
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  expect(await session.findElement(By.id('pay-status')).getText()).toContain('Waiting for Alipay')
  expect(await session.executeScript('return window.confirms')).toEqual([])
  // The buyer gives up on the real checkout.
  await session.switchTo().window(popup)
  await session.close()
  await session.switchTo().window(shop)
  await waitForStatus(session, CANCELLED)
  await expectNoPayment(session, orderId)
})
