import puppeteer, { type Browser, type Frame, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { APP_ORIGIN, SHOP_ORIGIN, SHOP_PORT, shopUrl } from './origins.js'

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

/**
 * The steps of show() (https://w3c.github.io/payment-request/#show-method) that a script can only
 * approximate, named as in tests/e2e/polyfill-conformance.spec.ts. Every show() runs in a real
 * click: once a window.open() has used the activation up, Firefox grants `evaluate` none again.
 */
describe('show() steps', () => {
  const ALIPAY = `[{ supportedMethods: 'alipay', data: fx.alipayData() }]`
  const WAITING = `[{ supportedMethods: 'alipay', data: fx.alipayData({ x_fixture: 'wait' }) }]`
  // Completes the response and says how show() ended: 'resolved' or the error's name.
  const OUTCOME = `.then((r) => r.complete('success')).then(() => 'resolved', (e) => e.name)`

  /** What `expression` (a promise) fulfils with, or 'pending' after `ms`: a test fails instead of hanging. */
  const within = (target: Page | Frame, expression: string, ms = 5_000) =>
    target.evaluate(
      `Promise.race([${expression}, new Promise((resolve) => setTimeout(() => resolve('pending'), ${ms}))])`,
    )

  /** Runs `statements` in a click on a button of `target` (a page or a frame), with the activation that gives. */
  async function inClick(target: Page | Frame, statements: string): Promise<void> {
    await target.evaluate(`(() => {
      let button = document.querySelector('#run')
      if (!button) {
        button = document.createElement('button')
        button.id = 'run'
        button.textContent = 'run'
        document.body.prepend(button)
      }
      button.onclick = () => { ${statements} }
    })()`)
    await target.click('#run')
  }

  /** Adds an iframe with the test shop on `origin`, and returns its frame once its own polyfill is ready. */
  async function addShopFrame(page: Page, origin?: string): Promise<Frame> {
    const src = shopUrl({}).replace(/^http:\/\/[^/]+/, origin ?? '$&')
    await page.evaluate(`new Promise((resolve) => {
      const frame = document.createElement('iframe')
      frame.allow = 'payment'
      frame.onload = resolve
      frame.src = ${JSON.stringify(src)}
      document.body.append(frame)
    })`)
    const frame = page.mainFrame().childFrames().at(-1)
    if (frame?.url() !== src) throw new Error(`no frame at ${src}`)
    await frame.waitForFunction(`document.body.dataset.ready === 'true'`)
    return frame
  }

  /** The window `open` makes (popups of frames are no `popup` event of the page), once its checkout shows the request. */
  async function nextCheckout(open: () => Promise<unknown>): Promise<Page> {
    const before = new Set(await browser.pages())
    await open()
    const checkout = await vi.waitFor(
      async () => {
        const opened = (await browser.pages()).find((p) => !before.has(p))
        if (!opened) throw new Error('no new window')
        return opened
      },
      { timeout: 10_000, interval: 100 },
    )
    await checkout.waitForSelector('#pay:not([hidden])')
    return checkout
  }

  /** Resolves once `window` is closed; rejects after 5 s. */
  const closed = (window: Page) =>
    vi.waitFor(
      () => {
        if (!window.isClosed()) throw new Error('still open')
      },
      { timeout: 5_000, interval: 100 },
    )

  /** Shows a request for `methods` in a click on `target`; how it ended is `window[name]` there. */
  const show = (target: Page | Frame, name: string, methods = ALIPAY) =>
    inClick(target, `window.${name} = new PaymentRequest(${methods}, fx.details()).show()${OUTCOME}`)

  test('"payment request is showing" belongs to the top-level browsing context: a same-origin frame showing makes the top\'s show() reject with AbortError, and its checkout stays its own', async () => {
    const { page } = await openShop({})
    const frame = await addShopFrame(page)
    const checkout = await nextCheckout(() =>
      inClick(
        frame,
        `window.framed = new PaymentRequest(${WAITING}, fx.details())
        window.framedShown = framed.show().then(() => 'resolved', (e) => e.name)`,
      ),
    )
    await checkout.evaluate('window.untouched = true')
    await show(page, 'topShown')
    expect(await within(page, 'topShown')).toBe('AbortError')
    expect(await checkout.evaluate('[window.untouched, requests.length]')).toEqual([true, 1])
    expect(await within(frame, `framed.abort().then(() => 'resolved', (e) => e.name)`)).toBe('resolved')
    expect(await within(frame, 'framedShown')).toBe('AbortError')
    await show(page, 'nextShown')
    expect(await within(page, 'nextShown')).toBe('resolved')
    await page.close()
  })

  test('"payment request is showing" belongs to the top-level browsing context: the top showing makes a same-origin frame\'s show() reject with AbortError', async () => {
    const { page } = await openShop({})
    const frame = await addShopFrame(page)
    const checkout = await nextCheckout(() => show(page, 'topShown', WAITING))
    await checkout.evaluate('window.untouched = true')
    await show(frame, 'framedShown')
    expect(await within(frame, 'framedShown')).toBe('AbortError')
    expect(await checkout.evaluate('[window.untouched, requests.length]')).toEqual([true, 1])
    await checkout.click('#pay')
    expect(await within(page, 'topShown')).toBe('resolved')
    await page.close()
  })

  test('"payment request is showing" belongs to the top-level browsing context: a cross-origin frame keeps its own, and each request gets a checkout window of its own', async () => {
    const { page } = await openShop({})
    // *.localhost is loopback and a secure context, and another origin than localhost.
    const frame = await addShopFrame(page, `http://frame.localhost:${SHOP_PORT}`)
    const framed = await nextCheckout(() => show(frame, 'framedShown', WAITING))
    const top = await nextCheckout(() => show(page, 'topShown', WAITING))
    expect(framed.isClosed()).toBe(false)
    expect(await framed.evaluate('requests.length')).toBe(1)
    expect(await top.evaluate('requests.length')).toBe(1)
    await top.click('#pay')
    await framed.click('#pay')
    expect(await within(page, 'topShown')).toBe('resolved')
    expect(await within(frame, 'framedShown')).toBe('resolved')
    await page.close()
  })

  test('"consume user activation" comes before the later checks: every show() that rejects uses up the activation and leaves no window open', async () => {
    const { page } = await openShop({})
    const before = new Set(await browser.pages())
    const checkout = await nextCheckout(() =>
      inClick(
        page,
        `window.first = new PaymentRequest(${WAITING}, fx.details())
        window.firstShown = first.show().then(() => 'resolved', (e) => e.name)`,
      ),
    )
    await checkout.evaluate('window.untouched = true')
    /** What show() (an expression) rejects with, and whether the activation was still there right after the call. */
    const rejected = async (showing: string) => {
      await inClick(
        page,
        `const shown = ${showing}
        const active = navigator.userActivation.isActive
        window.rejected = shown.then(() => 'resolved', (e) => e.name).then((name) => [name, active])`,
      )
      return within(page, 'window.rejected')
    }
    expect(await rejected('first.show()')).toEqual(['InvalidStateError', false])
    expect(await rejected(`new PaymentRequest(${ALIPAY}, fx.details()).show()`)).toEqual(['AbortError', false])
    expect(await checkout.evaluate('[window.untouched, requests.length]')).toEqual([true, 1])
    expect(await within(page, `first.abort().then(() => 'resolved', (e) => e.name)`)).toBe('resolved')
    expect(await within(page, 'firstShown')).toBe('AbortError')
    expect(await rejected(`new PaymentRequest([{ supportedMethods: 'basic-card' }], fx.details()).show()`)).toEqual([
      'NotSupportedError',
      false,
    ])
    expect(await rejected(`new PaymentRequest([{ supportedMethods: 'alipay' }], fx.details()).show()`)).toEqual([
      'TypeError',
      false,
    ])
    await vi.waitFor(async () => expect((await browser.pages()).filter((p) => !before.has(p))).toEqual([]), {
      timeout: 5_000,
      interval: 100,
    })
    await page.close()
  })

  test('"return acceptPromise and perform the remaining steps in parallel": NotSupportedError and method-data errors come through the promise of an interactive request, so abort() right after show() resolves', async () => {
    const { page } = await openShop({})
    for (const [methods, error] of [
      [`[{ supportedMethods: 'basic-card' }]`, 'NotSupportedError'],
      [`[{ supportedMethods: 'alipay' }]`, 'TypeError'],
    ]) {
      await inClick(
        page,
        `const request = new PaymentRequest(${methods}, fx.details())
        const shown = request.show().then(() => 'resolved', (e) => e.name)
        const aborted = request.abort().then(() => 'resolved', (e) => e.name)
        window.outcome = Promise.all([shown, aborted])`,
      )
      expect(await within(page, 'window.outcome')).toEqual([error, 'resolved'])
    }
    await show(page, 'nextShown')
    expect(await within(page, 'nextShown')).toBe('resolved')
    await page.close()
  })

  // The frame's promise is watched from a promise of the top's realm: a gone document's realm runs no more jobs.
  const WATCH_FRAMED = `window.framedShown = new Promise((resolve) =>
    framedPromise.then(() => resolve('resolved'), (e) => resolve(e.name))); 0`

  test('"if document stops being fully active while the user interface is being shown": a frame navigating away closes its checkout, rejects its show() with AbortError and lowers the flag', async () => {
    const { page } = await openShop({})
    const frame = await addShopFrame(page)
    const checkout = await nextCheckout(() =>
      inClick(frame, `parent.framedPromise = new PaymentRequest(${WAITING}, fx.details()).show()`),
    )
    await page.evaluate(WATCH_FRAMED)
    await page.evaluate(`document.querySelector('iframe').src = ${JSON.stringify(shopUrl({ page: '2' }))}; 0`)
    await closed(checkout)
    expect(await within(page, 'framedShown')).toBe('AbortError')
    await show(page, 'nextShown')
    expect(await within(page, 'nextShown')).toBe('resolved')
    await page.close()
  })

  test('"if document stops being fully active while the user interface is being shown": a frame removed from the page closes its checkout and rejects its show() with AbortError', async () => {
    const { page } = await openShop({})
    const frame = await addShopFrame(page)
    const checkout = await nextCheckout(() =>
      inClick(frame, `parent.framedPromise = new PaymentRequest(${WAITING}, fx.details()).show()`),
    )
    await page.evaluate(WATCH_FRAMED)
    await page.evaluate(`document.querySelector('iframe').remove(); 0`)
    await closed(checkout)
    expect(await within(page, 'framedShown')).toBe('AbortError')
    await show(page, 'nextShown')
    expect(await within(page, 'nextShown')).toBe('resolved')
    await page.close()
  })

  test('"if document stops being fully active while the user interface is being shown": the merchant page navigating away closes its checkout', async () => {
    const { page } = await openShop({})
    const checkout = await nextCheckout(() => show(page, 'shown', WAITING))
    await page.goto(`${SHOP_ORIGIN}/tests/e2e/fixtures/protocol.html`)
    await closed(checkout)
    await page.close()
  })
})
