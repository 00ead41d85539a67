import { expect, test, type Page } from '@playwright/test'
import { orderFromShop } from './support/shop-pages.js'
import { SHOP_ORIGIN, startShopStack, type ShopStack } from './support/shop-stack.js'

// The shop's pages under their real CSP: their own scripts run (nonce), injected markup does not.
let stack: ShopStack
test.beforeAll(async () => {
  stack = await startShopStack({ gatewayKind: 'mapi' })
})
test.afterAll(async () => {
  await stack?.close()
})

test.beforeEach(async ({ page }) => {
  // Init scripts run outside the page's CSP: they only record what the policy refused.
  await page.addInitScript({
    content: `window.cspViolations = []
      document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.effectiveDirective))`,
  })
})

const violations = (page: Page) => page.evaluate<string[]>('window.cspViolations')

test('every page works under the nonce CSP without a single violation', async ({ page }) => {
  const orderId = await orderFromShop(page, ['celadon-cup'])
  expect(await violations(page)).toEqual([])
  await page.locator('#pay-qr').click()
  await expect(page.locator('#qr-image')).toHaveAttribute('src', /^data:image\/png/)
  expect(await violations(page)).toEqual([])
  const response = await page.goto(`${SHOP_ORIGIN}/orders.html#operator=${stack.running.operatorToken}`)
  const csp = response!.headers()['content-security-policy'] ?? ''
  expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/)
  expect(csp).not.toContain('unsafe-inline')
  await expect(page.locator(`tr[data-order="${orderId}"]`)).toHaveCount(1)
  expect(await violations(page)).toEqual([])
})

test('an inline script injected into a page (stored XSS) is blocked, the page’s own scripts still run', async ({
  page,
}) => {
  // What an injection into the served HTML would add: an inline script and an event handler.
  await page.route(`${SHOP_ORIGIN}/`, async (route) => {
    const original = await route.fetch()
    const html = (await original.text()).replace(
      '</main>',
      '<script>window.injected = "script"</script><img src="/nope.png" onerror="window.injected = \'handler\'"></main>',
    )
    await route.fulfill({ response: original, body: html })
  })
  await page.goto(`${SHOP_ORIGIN}/`)
  // The shop's own module (nonce) rendered the catalogue.
  await expect(page.locator('button[data-product="celadon-cup"]')).toBeVisible()
  await expect.poll(async () => (await violations(page)).filter((d) => d.startsWith('script-src')).length).toBe(2)
  expect(await page.evaluate<string | undefined>('window.injected')).toBeUndefined()
})

test('a same-origin script tag without the nonce does not run either', async ({ page }) => {
  await page.goto(`${SHOP_ORIGIN}/`)
  await expect(page.locator('button[data-product="celadon-cup"]')).toBeVisible()
  const bundle = await page.evaluate<string>(`document.querySelector('script[src]').getAttribute('src')`)
  await page.route(`${SHOP_ORIGIN}/`, async (route) => {
    const original = await route.fetch()
    const html = (await original.text()).replace('</body>', `<script src="${bundle}?again"></script></body>`)
    await route.fulfill({ response: original, body: html })
  })
  await page.goto(`${SHOP_ORIGIN}/`)
  await expect.poll(async () => (await violations(page)).filter((d) => d.startsWith('script-src')).length).toBe(1)
})
