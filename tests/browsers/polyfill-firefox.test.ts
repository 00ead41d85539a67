import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { APP_ORIGIN, shopUrl } from './origins.js'

/**
 * The polyfill's fallback in Debian's Firefox ESR, which has no PaymentRequest at all
 * (payment-handler-notes §6b), driven over WebDriver BiDi by puppeteer-core. The popup blocker is
 * switched back on: Puppeteer turns it off by default, which would hide gesture bugs.
 */
const FIREFOX_PATH = process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr'

let browser: Browser

beforeAll(async () => {
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: { 'dom.disable_open_during_load': true },
  })
})

afterAll(async () => {
  await browser?.close()
})

/** A fresh page that records the shop's `[result] …` console lines (reading the DOM would grant activation). */
async function openShop(
  query: Record<string, string>,
  on: Browser = browser,
): Promise<{ page: Page; result: () => Promise<string>; popups: string[] }> {
  const page = await on.newPage()
  const popups: string[] = []
  page.on('popup', (popup) => popups.push(popup?.url() ?? 'unknown'))
  if (process.env['DEBUG_BROWSERS']) {
    page.on('pageerror', (e) => console.log('pageerror', e))
    page.on('requestfailed', (r) => console.log('requestfailed', r.url()))
  }
  let resolveResult: (text: string) => void = () => {}
  const result = new Promise<string>((resolve) => (resolveResult = resolve))
  const ready = new Promise<void>((resolve) => {
    page.on('console', (message) => {
      const text = message.text()
      if (process.env['DEBUG_BROWSERS']) console.log('console:', text)
      if (text.startsWith('[ready]')) resolve()
      if (text.startsWith('[result] ')) resolveResult(text.slice('[result] '.length))
    })
  })
  await page.goto(shopUrl(query))
  await ready
  return { page, result: () => result, popups }
}

test('Firefox has no PaymentRequest, and the polyfill installs its fallback', async () => {
  const { page } = await openShop({})
  expect(await page.evaluate(`[typeof PaymentManager, document.body.dataset.mode, typeof PaymentRequest]`)).toEqual([
    'undefined',
    'fallback',
    'function',
  ])
  await page.close()
})

test('a click pays through the checkout popup', async () => {
  const { page, result } = await openShop({ behaviour: 'pay' })
  await page.click('#buy')
  expect(await result()).toMatch(/^paid alipay T\d+$/)
  await page.close()
})

test('the return page announces itself again and the payment completes', async () => {
  const { page, result } = await openShop({ behaviour: 'return' })
  await page.click('#buy')
  expect(await result()).toMatch(/^paid alipay T\d+$/)
  await page.close()
})

test('show() without a user gesture rejects with SecurityError and opens no window', async () => {
  const { page, result, popups } = await openShop({ behaviour: 'pay', autoshow: '1' })
  expect(await result()).toBe('SecurityError')
  expect(popups).toEqual([])
  await page.close()
})

test('a click whose popup went to another window rejects show() with SecurityError', async () => {
  // Firefox's window.open() uses up the activation, so the spec's first check already fails.
  const { page, result, popups } = await openShop({ behaviour: 'pay', preopen: '1' })
  await page.click('#buy')
  expect(await result()).toBe('SecurityError')
  expect(popups).toHaveLength(1) // only the other window
  await page.close()
})

test('the buyer closing the popup rejects show() with AbortError', async () => {
  const { page, result } = await openShop({ behaviour: 'wait' })
  const popup = new Promise<Page | null>((resolve) => page.once('popup', resolve))
  await page.click('#buy')
  const checkout = await popup
  await checkout?.waitForSelector('#pay:not([hidden])')
  expect(checkout?.url()).toContain(`${APP_ORIGIN}/pay/checkout.html?mode=popup`)
  await checkout?.close()
  expect(await result()).toBe('AbortError')
  await page.close()
})

test('forged messages from a hostile frame are ignored', async () => {
  const { page, result } = await openShop({ behaviour: 'wait' })
  const popup = new Promise<Page | null>((resolve) => page.once('popup', resolve))
  await page.click('#buy')
  const checkout = await popup
  await checkout?.waitForSelector('#pay:not([hidden])')
  await page.evaluate(`(() => {
    const frame = document.createElement('iframe')
    frame.src = '${APP_ORIGIN}/pay/hostile.html?id=' + lastRequest.id
    document.body.append(frame)
  })()`)
  const settled = await Promise.race([
    result(),
    new Promise((resolve) => setTimeout(() => resolve('still pending'), 1_500)),
  ])
  expect(settled).toBe('still pending')
  await checkout?.close()
  expect(await result()).toBe('AbortError')
  await page.close()
})
