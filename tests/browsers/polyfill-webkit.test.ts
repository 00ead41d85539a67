import { By, until, type WebDriver } from 'selenium-webdriver'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { APP_ORIGIN, shopUrl } from './origins.js'
import { startWebKitDriver, type WebKitDriverHost } from './webkit-session.js'

/**
 * The polyfill's fallback in WebKitGTK (Safari's engine, no PaymentRequest here). Its popup
 * blocker is Safari's: the checkout window must open synchronously inside the click, before any
 * await, or it is blocked.
 */
let host: WebKitDriverHost
let driver: WebDriver | undefined

beforeAll(async () => {
  host = await startWebKitDriver()
})

afterEach(async () => {
  await driver?.quit().catch(() => {})
  driver = undefined
})

afterAll(async () => {
  await host?.stop()
})

async function openShop(query: Record<string, string>): Promise<WebDriver> {
  driver = await host.newSession()
  await driver.get(shopUrl(query))
  await driver.wait(until.elementLocated(By.css('body[data-ready="true"]')), 20_000)
  return driver
}

/** Waits until the shop's status line is no longer "idle", and returns it. */
async function result(session: WebDriver): Promise<string> {
  const status = await session.findElement(By.id('status'))
  await session.wait(async () => (await status.getText()) !== 'idle', 20_000)
  return status.getText()
}

test('WebKit has no PaymentRequest, and the polyfill installs its fallback', async () => {
  const session = await openShop({})
  expect(await session.executeScript('return [document.body.dataset.mode, typeof PaymentRequest]')).toEqual([
    'fallback',
    'function',
  ])
})

test('a click pays through the checkout popup', async () => {
  const session = await openShop({ behaviour: 'pay' })
  await session.findElement(By.id('buy')).click()
  expect(await result(session)).toMatch(/^paid alipay T\d+$/)
})

test('the return page announces itself again and the payment completes', async () => {
  const session = await openShop({ behaviour: 'return' })
  await session.findElement(By.id('buy')).click()
  expect(await result(session)).toMatch(/^paid alipay T\d+$/)
})

test('show() without a user gesture rejects with SecurityError and opens no window', async () => {
  const session = await openShop({ behaviour: 'pay', autoshow: '1' })
  expect(await result(session)).toBe('SecurityError')
  expect(await session.getAllWindowHandles()).toHaveLength(1)
})

test('show() 1.6 s after the click, where Safari blocks popups, opens nothing and pays nothing', async () => {
  const session = await openShop({ behaviour: 'pay', delay: '1600' })
  await session.findElement(By.id('buy')).click()
  // The page still has activation, but the blocker refuses the window: window.open() returns null.
  expect(await result(session)).toBe('AbortError')
  expect(await session.getAllWindowHandles()).toHaveLength(1)
})

test('the buyer closing the popup rejects show() with AbortError', async () => {
  const session = await openShop({ behaviour: 'wait' })
  const shop = await session.getWindowHandle()
  await session.findElement(By.id('buy')).click()
  await session.wait(async () => (await session.getAllWindowHandles()).length === 2, 10_000)
  const popup = (await session.getAllWindowHandles()).find((handle) => handle !== shop) ?? ''
  await session.switchTo().window(popup)
  await session.wait(until.elementLocated(By.css('#pay:not([hidden])')), 10_000)
  expect(await session.getCurrentUrl()).toContain(`${APP_ORIGIN}/pay/checkout.html?mode=popup`)
  await session.close()
  await session.switchTo().window(shop)
  expect(await result(session)).toBe('AbortError')
})

test('forged messages from a hostile frame are ignored', async () => {
  const session = await openShop({ behaviour: 'wait' })
  const shop = await session.getWindowHandle()
  await session.findElement(By.id('buy')).click()
  await session.wait(async () => (await session.getAllWindowHandles()).length === 2, 10_000)
  await session.executeScript(`
    const frame = document.createElement('iframe')
    frame.src = '${APP_ORIGIN}/pay/hostile.html?id=' + window.lastRequest.id
    document.body.append(frame)`)
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  expect(await session.findElement(By.id('status')).getText()).toBe('idle')
  const popup = (await session.getAllWindowHandles()).find((handle) => handle !== shop) ?? ''
  await session.switchTo().window(popup)
  await session.close()
  await session.switchTo().window(shop)
  expect(await result(session)).toBe('AbortError')
})
