import { expect, test, type Page } from '@playwright/test'
import { FIXTURE_ORIGIN } from './support/origins.js'
import { POLYFILL_APP_ORIGIN } from './support/polyfill-origins.js'
import { openShop, settle } from './support/polyfill-page.js'

/**
 * The fallback's popup channel in Chromium (Payment Request API removed), against the fake
 * payment app in fixtures/polyfill-app: handshake, origin and source checks, the MessagePort,
 * a second handshake from a new document, the buyer closing the popup, and clean-up.
 */

// Counts the page's 'message' listeners, so a test can see that none is left behind.
const COUNT_MESSAGE_LISTENERS = `(() => {
  let count = 0
  const add = window.addEventListener, remove = window.removeEventListener
  window.addEventListener = function (type, ...rest) { if (type === 'message') count++; return add.call(this, type, ...rest) }
  window.removeEventListener = function (type, ...rest) { if (type === 'message') count--; return remove.call(this, type, ...rest) }
  Object.defineProperty(window, 'messageListeners', { get: () => count })
})()`

async function buy(page: Page, behaviour: string): Promise<Page> {
  await page.addInitScript(COUNT_MESSAGE_LISTENERS)
  await openShop(page, 'fallback', { behaviour })
  const popup = page.waitForEvent('popup')
  await page.click('#buy')
  return popup
}

test('the checkout popup gets the request over its port and its answer resolves show()', async ({ page }) => {
  const popup = await buy(page, 'wait')
  expect(popup.url()).toBe(
    `${POLYFILL_APP_ORIGIN}/pay/checkout.html?mode=popup&origin=${encodeURIComponent(FIXTURE_ORIGIN)}`,
  )
  await expect(popup.locator('#pay')).toBeVisible()
  const request = await popup.evaluate('requests[0]')
  expect(request).toMatchObject({
    merchantOrigin: FIXTURE_ORIGIN,
    paymentRequestId: await page.evaluate('lastRequest.id'),
    total: { currency: 'CNY', value: '9.99' },
    methodData: { partner: '2088101122136241', x_fixture: 'wait' },
  })
  const closed = popup.waitForEvent('close')
  await popup.click('#pay')
  await expect(page.locator('#status')).toHaveText(/^paid alipay T\d+$/)
  await closed // complete() closes the popup
  expect(await page.evaluate('messageListeners')).toBe(0)
})

test('a new document in the popup announces itself again and gets the request again', async ({ page }) => {
  await page.addInitScript(COUNT_MESSAGE_LISTENERS)
  await openShop(page, 'fallback')
  const details = await page.evaluate(`(async () => {
    const request = new PaymentRequest([{ supportedMethods: 'alipay', data: fx.alipayData({ x_fixture: 'return' }) }], fx.details())
    const response = await request.show()
    await response.complete('success')
    return response.details
  })()`)
  expect(details).toMatchObject({ page: '/pay/return.html', success: 'true' })
  expect(await page.evaluate('messageListeners')).toBe(0)
})

test('the buyer closing the popup rejects show() with AbortError and leaves no listener', async ({ page }) => {
  const popup = await buy(page, 'wait')
  await expect(popup.locator('#pay')).toBeVisible()
  await popup.close()
  await expect(page.locator('#status')).toHaveText('AbortError')
  expect(await page.evaluate('messageListeners')).toBe(0)
})

test('the buyer cancelling in the checkout rejects show() with AbortError', async ({ page }) => {
  await buy(page, 'cancel')
  await expect(page.locator('#status')).toHaveText('AbortError')
  expect(await page.evaluate('messageListeners')).toBe(0)
})

test('a failure reported by the payment app rejects show() with OperationError', async ({ page }) => {
  await buy(page, 'fail')
  await expect(page.locator('#status')).toHaveText('OperationError')
})

test('the checkout closing itself rejects show() with AbortError', async ({ page }) => {
  await buy(page, 'close')
  await expect(page.locator('#status')).toHaveText('AbortError')
})

test('abort() closes the popup and rejects show() with AbortError', async ({ page }) => {
  const popup = await buy(page, 'wait')
  await expect(popup.locator('#pay')).toBeVisible()
  const closed = popup.waitForEvent('close')
  expect(await settle(page, 'lastRequest.abort()')).toBe('resolved')
  await closed
  await expect(page.locator('#status')).toHaveText('AbortError')
  expect(await page.evaluate('messageListeners')).toBe(0)
})

test('messages from other windows, even on the app origin, are ignored', async ({ page }) => {
  const popup = await buy(page, 'wait')
  await expect(popup.locator('#pay')).toBeVisible()
  const id = await page.evaluate<string>('lastRequest.id')
  // A frame on the payment app's origin that is not our popup, and the merchant page itself, forge answers.
  await page.evaluate(`(() => {
    const frame = document.createElement('iframe')
    frame.src = '${POLYFILL_APP_ORIGIN}/pay/hostile.html?id=${id}'
    document.body.append(frame)
    window.postMessage({ type: 'CHECKOUT_DONE', payload: { paymentRequestId: '${id}', outcome: { kind: 'paid', details: {} } } }, '*')
  })()`)
  const hostile = page.frameLocator('iframe').locator('#status')
  await expect(hostile).toHaveText('hostile')
  await page.waitForTimeout(1_000)
  await expect(page.locator('#status')).toHaveText('idle')
  const frame = page.frames().find((f) => f.url().includes('/pay/hostile.html'))
  expect(await frame?.evaluate('received.length')).toBe(0) // never got a REQUEST
  await popup.close()
  await expect(page.locator('#status')).toHaveText('AbortError')
})

test('our popup navigated to another origin cannot answer', async ({ page }) => {
  const popup = await buy(page, 'forge')
  await popup.waitForURL(/polyfill-forger\.html/)
  await page.waitForTimeout(1_000)
  await expect(page.locator('#status')).toHaveText('idle')
  await popup.close()
  await expect(page.locator('#status')).toHaveText('AbortError')
})

test('retry() sends the request again and resolves with the new answer', async ({ page }) => {
  await openShop(page, 'fallback')
  const attempts = await page.evaluate(`(async () => {
    const request = new PaymentRequest([{ supportedMethods: 'alipay', data: fx.alipayData() }], fx.details())
    const response = await request.show()
    const first = response.details.attempt
    const during = await response.complete().then(() => 'resolved', (e) => e.name)
    return [first, during]
  })()`)
  expect(attempts).toEqual(['1', 'resolved'])
  const retried = await page.evaluate(`(async () => {
    const request = new PaymentRequest([{ supportedMethods: 'alipay', data: fx.alipayData() }], fx.details())
    const response = await request.show()
    const first = response.details.attempt
    const retrying = response.retry({ error: 'Try another account' })
    const whileRetrying = await response.complete().then(() => 'resolved', (e) => e.name)
    const abortWhileRetrying = await request.abort().then(() => 'resolved', (e) => e.name)
    await retrying
    const second = response.details.attempt
    await response.complete('success')
    return [first, whileRetrying, abortWhileRetrying, second]
  })()`)
  expect(retried).toEqual(['1', 'InvalidStateError', 'InvalidStateError', '2'])
})

test('a modifier total for "alipay" is the total the checkout charges', async ({ page }) => {
  await openShop(page, 'fallback')
  const total = await page.evaluate(`(async () => {
    const details = { ...fx.details('10.00'), modifiers: [{ supportedMethods: 'alipay', total: { label: 'T', amount: { currency: 'cny', value: '8.00' } } }] }
    const response = await new PaymentRequest([{ supportedMethods: 'alipay', data: fx.alipayData() }], details).show()
    await response.complete('success')
    return response.details.total_fee
  })()`)
  expect(total).toBe('8.00')
})
