import { fileURLToPath } from 'node:url'
import { test as base, expect, type Browser, type Page } from '@playwright/test'
import { findHandlerWindow, type HandlerWindow } from '@alipay-payment-handler/testing'
import { startHandlerStack, type HandlerStack } from './support/handler-stack.js'
import type { OrderOptions } from './support/test-merchant.js'

/**
 * The native path in real Chromium: fresh profile → merchant page → show() → just-in-time install
 * → worker → checkout window → sandbox cashier → return → show() settles. Each test gets a fresh
 * context, so each one installs the handler again. The window is driven over CDP (payment-handler-notes §6).
 */
const test = base.extend<object, { stack: HandlerStack }>({
  stack: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const stack = await startHandlerStack()
      await use(stack)
      await stack.close()
    },
    { scope: 'worker', timeout: 120_000 },
  ],
})

// Screenshots of every checkout state; `UPDATE_SCREENSHOTS=1` writes the README's copies.
const SHOTS = fileURLToPath(
  new URL(
    process.env['UPDATE_SCREENSHOTS'] === '1' ? '../../docs/screenshots/' : '../../test-results/screenshots/',
    import.meta.url,
  ),
)
const shot = (window: HandlerWindow, name: string) => window.screenshot(`${SHOTS}handler-${name}.png`)

/** Opens the shop, prepares an order and clicks Buy; returns the order id and the checkout window. */
async function startPayment(page: Page, stack: HandlerStack, browser: Browser, order: OrderOptions = {}) {
  await page.goto(`${stack.merchantOrigin}/shop.html`)
  const orderId = await page.evaluate((options) => (window as any).__prepare(options), order as any)
  await page.click('#buy') // a real click gives show() its activation
  const window = await findHandlerWindow(browser, page, '/pay/checkout.html')
  return { orderId: orderId as string, window }
}

/** Pays at the sandbox cashier with the demo buyer. */
async function payAtCashier(window: HandlerWindow) {
  await window.waitFor(`location.pathname.startsWith('/cashier/') && document.querySelector('#login')`, 20_000)
  await window.evaluate(`(() => {
    document.querySelector('#login').value = 'buyer@demo.example'
    document.querySelector('#password').value = 'alipay-demo'
    document.querySelector('#pay').click()
  })()`)
}

test('pays through the just-in-time installed handler and the merchant verifies the response', async ({
  page,
  browser,
  stack,
}) => {
  // Held, so the window's first screen can be looked at; it leaves for the cashier by itself.
  const release = stack.holdSessionCreation()
  const { orderId, window } = await startPayment(page, stack, browser, {
    subject: 'Jasmine green tea, 100 g',
    amount: '0.01',
  })
  try {
    await window.waitForState('review')
    // Before any money moves, the window says whom and what the buyer pays.
    expect(await window.evaluate<string>(`document.querySelector('#merchant').textContent`)).toBe(stack.merchantOrigin)
    expect(await window.evaluate<string>(`document.querySelector('#amount').textContent`)).toBe('¥0.01')
    expect(await window.evaluate<string>(`document.querySelector('#subject').textContent`)).toBe(
      'Jasmine green tea, 100 g',
    )
    // No Pay button of its own: the merchant's Buy and the cashier's Pay are the only two presses.
    expect(await window.evaluate<boolean>(`document.querySelector('#pay') === null`)).toBe(true)
    await shot(window, 'review')
    release()
    await payAtCashier(window)
  } finally {
    await window.detach()
  }
  await expect(page.locator('#status')).toHaveText(/^paid \d+$/, { timeout: 20_000 })
  const response = await page.evaluate(() => (window as any).__response)
  expect(response.methodName).toBe(stack.method)
  expect(response.details).toMatchObject({
    success: 'true',
    out_trade_no: orderId,
    total_fee: '0.01',
    sign_type: 'MD5',
  })
  expect(['TRADE_SUCCESS', 'TRADE_FINISHED']).toContain(response.details.trade_status)
  expect(stack.orders.get(orderId)).toMatchObject({ status: 'paid' })
})

test('the buyer cancels: show() resolves with cancelled details and the server session closes', async ({
  page,
  browser,
  stack,
}) => {
  const release = stack.holdSessionCreation()
  const { orderId, window } = await startPayment(page, stack, browser)
  try {
    await window.waitForState('review')
    await window.click('#cancel')
  } finally {
    release()
    await window.detach()
  }
  await expect(page.locator('#status')).toHaveText('cancelled buyer')
  const response = await page.evaluate(() => (window as any).__response)
  expect(response).toEqual({
    methodName: stack.method,
    details: { success: 'false', cancelled: 'true', reason: 'buyer', failure: 'cancelled' },
  })
  // The session the server finished creating after the cancel is closed as well.
  await expect.poll(() => stack.sessionIdsOf(orderId).length).toBe(1)
  await expect.poll(async () => (await stack.session(stack.sessionIdsOf(orderId)[0]!)).status).toBe('cancelled')
})

test("the merchant's abort() ends the payment and aborts the server session", async ({ page, browser, stack }) => {
  const { orderId, window } = await startPayment(page, stack, browser)
  try {
    // At the cashier: the worker has the session.
    await window.waitFor(`location.pathname.startsWith('/cashier/') && document.querySelector('#login')`, 20_000)
  } finally {
    await window.detach()
  }
  const sessionId = stack.sessionIdsOf(orderId)[0]!
  // page.click() would not reach the merchant page while the handler window is up (payment-handler-notes §5).
  await page.evaluate(() => (window as any).__request.abort())
  await expect(page.locator('#status')).toHaveText('AbortError')
  await expect.poll(async () => (await stack.session(sessionId)).status).toBe('aborted')
})

test('rule: the worker resolves only with its own session (the window reports a cheap paid one)', async ({
  page,
  browser,
  stack,
}) => {
  test.setTimeout(90_000)
  // A genuine, cheap payment: its session is paid at the signing server, its response verified.
  const cheap = await startPayment(page, stack, browser, { amount: '0.01' })
  try {
    await payAtCashier(cheap.window)
  } finally {
    await cheap.window.detach()
  }
  const cheapSession = stack.sessionIdsOf(cheap.orderId)[0]!
  await expect(page.locator('#status')).toHaveText(/^paid \d+$/, { timeout: 20_000 })
  const cheapResponse = await page.evaluate(() => (globalThis as any).__response)
  expect((await stack.session(cheapSession)).status).toBe('paid')

  // Then a 128.00 request, whose checkout window (the payment app's own origin, so the worker
  // listens to it) names the cheap session and reports its paid response.
  // Held, so the window stays on its first screen (on the payment app's origin) meanwhile.
  const release = stack.holdSessionCreation()
  const dear = await startPayment(page, stack, browser, { amount: '128.00' })
  try {
    await dear.window.waitForState('review')
    await dear.window.evaluate(`(async () => {
      const prid = new URL(location.href).searchParams.get('prid')
      const worker = navigator.serviceWorker.controller ?? (await navigator.serviceWorker.ready).active
      const post = (message) => worker.postMessage(message, [new MessageChannel().port2])
      post({ type: 'SESSION_CREATED', payload: { paymentRequestId: prid, sessionId: ${JSON.stringify(cheapSession)} } })
      await new Promise((resolve) => setTimeout(resolve, 200))
      post({ type: 'CHECKOUT_DONE', payload: { paymentRequestId: prid, outcome: { kind: 'paid', details: ${JSON.stringify(cheapResponse.details)} } } })
    })()`)
  } finally {
    release()
    await dear.window.detach()
  }
  // show() settles, but never with the cheap order's paid response.
  await expect(page.locator('#status')).toHaveText('cancelled failed SESSION_MISMATCH', { timeout: 20_000 })
  const response = await page.evaluate(() => (globalThis as any).__response)
  expect(response.details).toMatchObject({ success: 'false', cancelled: 'true', code: 'SESSION_MISMATCH' })
  expect(response.details).not.toHaveProperty('trade_no')
  expect(stack.orders.get(dear.orderId)).toMatchObject({ status: 'wait' })
})

test('an order past its deadline (it_b_pay) is explained in the window and ends as expired', async ({
  page,
  browser,
  stack,
}) => {
  // The signing server refuses deadlines under a minute away: the gateway counts whole minutes.
  const { window } = await startPayment(page, stack, browser, { itBPay: { inSeconds: 20 } })
  try {
    await window.waitForState('expired')
    expect(await window.evaluate<string>(`document.querySelector('#title').textContent`)).toBe('This order has expired')
    await shot(window, 'expired')
    await window.click('#back')
  } finally {
    await window.detach()
  }
  await expect(page.locator('#status')).toHaveText('cancelled expired')
})

test('the signing server is down: the shopper is told, can retry, and has a way out', async ({
  page,
  browser,
  stack,
}) => {
  stack.setApiDown(true)
  const { window } = await startPayment(page, stack, browser)
  try {
    await window.waitForState('problem')
    expect(await window.evaluate<string>(`document.body.dataset.problem`)).toBe('SERVER_UNREACHABLE')
    expect(await window.evaluate<string>(`document.querySelector('#title').textContent`)).toBe(
      'Alipay can’t be reached right now',
    )
    await shot(window, 'server-down')
    const checkoutUrl = await window.evaluate<string>('location.href')
    // Back up: "Try again" goes on to the cashier.
    stack.setApiDown(false)
    await window.click('#retry')
    await window.waitFor(`location.pathname.startsWith('/cashier/') && document.querySelector('#login')`, 20_000)
    // Down again: the way out settles show() with a clear failure.
    stack.setApiDown(true)
    await window.evaluate(`location.assign(${JSON.stringify(checkoutUrl)})`).catch(() => undefined)
    await window.waitForState('problem')
    await window.click('#back')
  } finally {
    stack.setApiDown(false)
    await window.detach()
  }
  await expect(page.locator('#status')).toHaveText('cancelled failed SERVER_UNREACHABLE')
  expect(await page.evaluate(() => (window as any).__response.details.failure)).toBe('server-unreachable')
})

test('invalid method data is explained to the shopper and fails the request clearly', async ({
  page,
  browser,
  stack,
}) => {
  const { window } = await startPayment(page, stack, browser, { corrupt: 'total_fee' })
  try {
    await window.waitForState('problem')
    expect(await window.evaluate<string>(`document.body.dataset.problem`)).toBe('INVALID_METHOD_DATA')
    expect(await window.evaluate<boolean>(`document.querySelector('#pay') === null`)).toBe(true)
    await shot(window, 'invalid-data')
    await window.click('#back')
  } finally {
    await window.detach()
  }
  await expect(page.locator('#status')).toHaveText('cancelled failed INVALID_METHOD_DATA')
})

test('a force-stopped worker loses show(), but the payment completes and the merchant learns it', async ({
  page,
  browser,
  stack,
}) => {
  const { orderId, window } = await startPayment(page, stack, browser)
  await page.evaluate((id) => (window as any).__watchOrder(id), orderId)
  try {
    await window.waitFor(`location.pathname.startsWith('/cashier/') && document.querySelector('#login')`, 20_000)
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('ServiceWorker.enable')
    await cdp.send('ServiceWorker.stopAllWorkers')
    await cdp.detach()
    await payAtCashier(window)
    // The return page's CHECKOUT_DONE starts a fresh worker; it finds the session in IndexedDB.
    await window.waitForState('orphaned', 20_000)
    await shot(window, 'orphaned')
    const stored = await window.evaluate<any>(`new Promise((resolve, reject) => {
      const open = indexedDB.open('alipay-handler')
      open.onerror = () => reject(open.error)
      open.onsuccess = () => {
        const read = open.result.transaction('sessions').objectStore('sessions').getAll()
        read.onsuccess = () => resolve(read.result)
      }
    })`)
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({
      paymentRequestId: orderId,
      state: 'settled',
      response: { details: { success: 'true', out_trade_no: orderId } },
    })
  } finally {
    await window.detach()
  }
  // The notify reached the merchant through the relay; its page learns it by polling.
  await expect(page.locator('#order')).toHaveText('order paid by notify', { timeout: 20_000 })
  // Chromium cannot settle that show() any more: only abort() ends it (payment-handler-notes §4).
  await expect(page.locator('#status')).toHaveText('showing')
  await page.evaluate(() => (window as any).__request.abort())
  await expect(page.locator('#status')).toHaveText('AbortError')
})
