import { expect, test } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeForm } from '@alipay-payment-handler/protocol'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import { startMerchant, type RunningMerchant } from '@alipay-payment-handler/demo-shop/server/server'
import { createHandlerAssets } from '@alipay-payment-handler/handler'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { payParams, signRequest } from '@alipay-payment-handler/sandbox/testing'
import { BUILD_DIRS, buildBrowserParts } from '@alipay-payment-handler/dev-stack/build-browser'
import { FIXTURE_ORIGIN } from './support/origins.js'

/**
 * Browser-side attacks in real Chromium: framing the checkout and the shop from another site,
 * postMessage from a foreign window to the checkout, and script injection through the order's
 * subject on the gateway's cashier. The attacker's page is the e2e fixture origin.
 */
const ATTACKER_PAGE = `${FIXTURE_ORIGIN}/tests/e2e/fixtures/protocol.html`

let dir: string
let sandbox: RunningSandbox
let signing: RunningSigningServer
let merchant: RunningMerchant

test.beforeAll(async () => {
  test.setTimeout(180_000)
  await buildBrowserParts()
  dir = mkdtempSync(join(tmpdir(), 'alipay-security-e2e-'))
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, dbPath: join(dir, 'sandbox.db'), log: () => {} }))
  merchant = await startMerchant({
    port: 0,
    appOrigin: 'http://localhost:1',
    gatewayUrl: sandbox.gatewayUrl,
    partner: demoPartnerConfig(),
    dataDir: dir,
    publicDir: BUILD_DIRS.shop,
    logger: silentLogger(),
  })
  signing = await startSigningServer({
    port: 0,
    gatewayUrl: sandbox.gatewayUrl,
    partners: [demoPartnerConfig({ allowedOrigins: [merchant.url, FIXTURE_ORIGIN] })],
    dbPath: join(dir, 'signing.db'),
    logger: silentLogger(),
    // The manifests' origin does not matter here: no payment handler is installed by these tests.
    handlerAssets: createHandlerAssets({ publicOrigin: 'http://localhost:0', distDir: BUILD_DIRS.handler }),
  })
})

test.afterAll(async () => {
  await signing?.close()
  await merchant?.close()
  await sandbox?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('attack: the checkout and the shop framed by another site do not render', async ({ page }) => {
  await page.goto(ATTACKER_PAGE)
  const targets = [`${signing.url}/pay/checkout.html?prid=x`, `${merchant.url}/checkout.html`, `${merchant.url}/`]
  for (const [index, url] of targets.entries()) {
    await page.evaluate(
      ({ src, id }) => {
        // Runs in the page; the Node tsconfig has no DOM types.
        const doc = (globalThis as any).document
        const frame = doc.createElement('iframe')
        frame.id = id
        frame.src = src
        doc.body.append(frame)
      },
      { src: url, id: `target-${index}` },
    )
    const frame = await (await page.waitForSelector(`#target-${index}`)).contentFrame()
    await page.waitForTimeout(1500)
    // Chromium replaces a frame refused by frame-ancestors / X-Frame-Options with its error page;
    // a frame that rendered keeps the target's URL.
    expect(frame?.url() ?? 'none', url).not.toContain(new URL(url).host)
  }
})

test('attack: postMessage from a foreign window to the checkout starts nothing', async ({ page }) => {
  await page.goto(ATTACKER_PAGE)
  // The attacker opens the checkout in popup mode claiming to be the merchant, then talks to it.
  const heard = await page.evaluate(
    async ({ checkout, merchantOrigin }) => {
      const page = globalThis as any
      const received: unknown[] = []
      page.addEventListener('message', (event: { data: unknown }) => received.push(event.data))
      const popup = page.open(`${checkout}?mode=popup&origin=${encodeURIComponent(merchantOrigin)}`, 'checkout')
      await new Promise((resolve) => setTimeout(resolve, 2500))
      // A REQUEST posted straight at the window (not over the handshake's port) must be ignored.
      popup?.postMessage(
        { type: 'REQUEST', payload: { paymentRequestId: 'evil', merchantOrigin, methodData: {}, total: {} } },
        '*',
      )
      await new Promise((resolve) => setTimeout(resolve, 1500))
      return received
    },
    { checkout: `${signing.url}/pay/checkout.html`, merchantOrigin: merchant.url },
  )
  // CHECKOUT_READY (and its port) went to the claimed merchant origin only: the attacker heard nothing.
  expect(heard).toEqual([])
  const popup = page
    .context()
    .pages()
    .find((p) => p.url().startsWith(`${signing.url}/pay/checkout.html`))
  expect(popup).toBeDefined()
  const state = await popup!.evaluate<string>('document.body.dataset.state')
  expect(['loading', 'problem']).toContain(state)
  expect(await signing.server.store.getSession('evil')).toBeUndefined()
})

test('attack: script in the subject and body does not run on the gateway cashier', async ({ page }) => {
  const payload = '<img src=x onerror="window.__xss=1">'
  const signed = await signRequest(payParams({ subject: `cup ${payload}`, body: `<script>window.__xss=2</script>` }))
  await page.goto(`${sandbox.gatewayUrl}?${encodeForm(signed)}`)
  await expect(page.getByText('cup <img', { exact: false }).first()).toBeVisible()
  expect(await page.evaluate('window.__xss')).toBeUndefined()
})
