import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { journeyPorts, startJourneyStack, type JourneyStack } from '../support/journey-stack.js'

/**
 * The sandbox cashier's own "取消付款，返回商户 Cancel" in the polyfill's popup (Firefox ESR, no
 * PaymentRequest of its own): it leads back to the payment app's return page, which ends show() as
 * the buyer's cancel (AbortError), closes the trade and pays nothing.
 */
const FIREFOX_PATH = process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr'
const PORTS = journeyPorts('BROWSERS_CANCEL', { merchant: 4681, app: 4682, gateway: 4683 })
const WAIT_MS = 15_000

let stack: JourneyStack
let browser: Browser

beforeAll(async () => {
  ;[stack, browser] = await Promise.all([
    startJourneyStack(PORTS),
    puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      extraPrefsFirefox: { 'dom.disable_open_during_load': true },
    }),
  ])
})

afterAll(async () => {
  await browser?.close()
  await stack?.close()
})

const text = (page: Page, selector: string) =>
  page.$eval(selector, (element) => element.textContent ?? '').catch(() => '')

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

test("the cashier's Cancel in the popup rejects show() as the buyer's cancel and pays nothing", async () => {
  const { orderId } = await stack.placeOrder()
  const page = await browser.newPage()
  await page.goto(stack.checkoutUrl(orderId))
  await page.waitForSelector('body[data-polyfill="fallback"] #pay-request:not([disabled])', { timeout: WAIT_MS })
  // What show() ends with, as the page sees it (the wrapper calls show() at once: activation is kept).
  await page.evaluate(`(() => {
    const show = PaymentRequest.prototype.show
    PaymentRequest.prototype.show = function (...args) {
      const shown = show.apply(this, args)
      shown.then(() => { window.__showOutcome = 'resolved' }, (error) => { window.__showOutcome = error.name })
      return shown
    }
  })()`)
  const popupEvent = new Promise<Page | null>((resolve) => page.once('popup', resolve))
  await page.click('#pay-request')
  const popup = await popupEvent
  if (!popup) throw new Error('no popup')
  // The checkout goes on to the cashier by itself once its session exists.
  await popup.waitForFunction(
    `location.pathname.startsWith('/cashier/') && document.querySelector('#cancel') !== null`,
    {
      timeout: WAIT_MS,
    },
  )
  expect(new URL(popup.url()).origin).toBe(stack.urls.gateway)

  await popup.click('#cancel')
  await page.waitForFunction('window.__showOutcome !== undefined', { timeout: WAIT_MS })
  expect(await page.evaluate('window.__showOutcome')).toBe('AbortError')
  // The shop says so (and, having learnt the trade is closed, may add that this order is over).
  await waitForText(page, '#pay-status', 'cancelled')
  expect((await stack.order(orderId)).status).not.toBe('success')
  // The buyer's cancel closed the trade at the gateway: nothing can be paid on it any more.
  expect((await stack.trades(orderId)).map((trade) => trade.status)).toEqual(['TRADE_CLOSED'])
  await page.close()
})
