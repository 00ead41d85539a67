import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test, expect, type Page } from '@playwright/test'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { openCashier, payParams, startReceiver, type NotifyReceiver } from '@alipay-payment-handler/sandbox/testing'
import { expectNoSeriousViolations } from './support/axe.js'
import { FIXTURE_ORIGIN } from './support/origins.js'

/**
 * The sandbox's own pages in Chromium: the cashier in the payment window's size, the inspector's
 * trigger buttons clicked for real, its trade and log pages, and axe-core on each of them.
 */
const RESULTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url))
// The inspector's screenshots are the README's; `UPDATE_SCREENSHOTS=1` writes them there.
const SHOTS = fileURLToPath(
  new URL(
    process.env['UPDATE_SCREENSHOTS'] === '1' ? '../../docs/screenshots/' : '../../test-results/screenshots/',
    import.meta.url,
  ),
)

let dir: string
let sandbox: RunningSandbox
let receiver: NotifyReceiver

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alipay-sandbox-pages-'))
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, dbPath: join(dir, 'sandbox.db'), log: () => {} }))
  receiver = await startReceiver()
})

test.afterAll(async () => {
  await sandbox?.close()
  await receiver?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A fresh PC trade; its order number and cashier URL. */
async function newTrade(subject = 'Jasmine green tea, 100 g') {
  const params = payParams({ subject, total_fee: '12.50', notify_url: receiver.url })
  const cashierUrl = await openCashier(sandbox.gatewayUrl, params)
  return { outTradeNo: params['out_trade_no']!, cashierUrl }
}

const inspector = () => `${sandbox.url}/_sandbox/inspector`

/** The inspector's row of one order. */
const rowOf = (page: Page, outTradeNo: string) => page.locator('#trades tbody tr', { hasText: outTradeNo })

test('the desktop cashier shows its Pay button without scrolling in a 608×550 payment window', async ({ page }) => {
  const { cashierUrl } = await newTrade()
  // Chrome's payment handler window, with a desktop user agent (the cashier may not sniff it).
  await page.setViewportSize({ width: 608, height: 550 })
  await page.goto(cashierUrl)
  await page.screenshot({ path: `${RESULTS}sandbox-cashier-608x550.png` })
  await expect(page.locator('#pay')).toBeInViewport({ ratio: 1 })
  await expect(page.locator('#login')).toBeInViewport({ ratio: 1 })
  await expect(page.locator('#password')).toBeInViewport({ ratio: 1 })
  // The QR pane is still there for a wide window, further down.
  await expect(page.locator('#qr-code')).toBeAttached()
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true)
})

test('the cashier: English page, a placeholder that is not a value, and the account kept after a refusal', async ({
  page,
}) => {
  const { cashierUrl } = await newTrade()
  await page.goto(cashierUrl)
  expect(await page.locator('html').getAttribute('lang')).toBe('en')
  // The Chinese half of each label is marked as such.
  expect(await page.locator('label[for=login] [lang="zh"]').textContent()).toBe('账户名')
  // The hint is an example, not something that looks typed in.
  expect(await page.locator('#login').getAttribute('placeholder')).toMatch(/^e\.g\. /)
  const placeholder = await page.evaluate<{ value: string; hint: string }>(`(() => {
    const input = document.querySelector('#login')
    return { value: getComputedStyle(input).color, hint: getComputedStyle(input, '::placeholder').color }
  })()`)
  expect(placeholder.hint).not.toBe(placeholder.value)
  await expectNoSeriousViolations(page, 'the cashier')

  await page.fill('#login', 'buyer@demo.example')
  await page.fill('#password', 'wrong password')
  await page.click('#pay')
  await expect(page.locator('#message')).toHaveAttribute('data-message', 'bad-login')
  await expect(page.locator('#login')).toHaveValue('buyer@demo.example')
  await expect(page.locator('#password')).toHaveValue('')
  await expect(page.locator('#password')).toBeFocused()
  await expectNoSeriousViolations(page, 'the cashier after a refused login')
})

test('inspector trigger buttons work when clicked', async ({ page }) => {
  const { outTradeNo } = await newTrade()
  const scanned = await newTrade()
  await page.goto(inspector())
  await rowOf(page, scanned.outTradeNo).locator('button[data-trigger=scan]').click()
  await expect(page.locator('#trigger-result')).toHaveText(`scan: ${scanned.outTradeNo} is TRADE_SUCCESS`)
  await rowOf(page, outTradeNo).locator('button[data-trigger=pay]').click()
  await expect(page.locator('#trigger-result')).toHaveText(`pay: ${outTradeNo} is TRADE_SUCCESS`)
  await rowOf(page, outTradeNo).locator('input[name=amount]').fill('2.50')
  await rowOf(page, outTradeNo).locator('button[data-trigger=refund]').click()
  await expect(page.locator('#trigger-result')).toHaveText(`refund: ${outTradeNo} is TRADE_SUCCESS`)
  await page.locator('#triggers button[data-trigger=fail-next]').click()
  await expect(page.locator('#trigger-result')).toHaveText('fail-next: done')
  await expect(page.locator('#pending-failures')).toHaveText('next 1 deliveries: drop')
  await page.locator('#triggers button[data-trigger=clock]').click()
  await expect(page.locator('#trigger-result')).toHaveText('clock: done')
})

test('the gateway endpoint opened in a browser says what it is and leads to the inspector', async ({ page }) => {
  await page.goto(sandbox.gatewayUrl)
  // Still the gateway's own answer to a request without parameters.
  await expect(page.locator('meta[name=alipay-error]')).toHaveAttribute('content', 'ILLEGAL_SERVICE')
  await expectNoSeriousViolations(page, 'the gateway error page')
  await page.locator('#gateway-help a').click()
  await expect(page).toHaveURL(inspector())
  await expect(page.locator('#trades')).toBeVisible()
})

test('attack: a trigger form posted from another origin is refused, even with the right token', async ({ page }) => {
  const { outTradeNo } = await newTrade()
  await page.goto(inspector())
  const token = await page.locator('input[name=csrf]').first().inputValue()
  await page.goto(`${FIXTURE_ORIGIN}/tests/e2e/fixtures/protocol.html`)
  const fields = JSON.stringify({ csrf: token, out_trade_no: outTradeNo })
  await page.evaluate(`(() => {
    const form = document.createElement('form')
    form.method = 'post'
    form.action = ${JSON.stringify(`${sandbox.url}/_sandbox/triggers/pay`)}
    for (const [name, value] of Object.entries(${fields})) {
      const input = document.createElement('input')
      input.type = 'hidden'
      input.name = name
      input.value = value
      form.append(input)
    }
    document.body.append(form)
    form.submit()
  })()`)
  await expect(page.locator('body')).toContainText('CROSS_ORIGIN_REFUSED')
  const { trades } = (await (await fetch(`${sandbox.url}/_sandbox/trades?out_trade_no=${outTradeNo}`)).json()) as {
    trades: { status: string }[]
  }
  expect(trades.map((t) => t.status)).toEqual(['WAIT_BUYER_PAY'])
})

test('the inspector fits 960 px, and its trade and log pages show every call of an order', async ({ page }) => {
  const other = await newTrade('An order of someone else')
  const { outTradeNo } = await newTrade('Oolong tea with a rather long name, 250 g tin')
  await page.setViewportSize({ width: 960, height: 900 })
  await page.goto(inspector())
  await rowOf(page, outTradeNo).locator('button[data-trigger=pay]').click()
  await expect(page.locator('#trigger-result')).toHaveText(`pay: ${outTradeNo} is TRADE_SUCCESS`)
  await page.screenshot({ path: `${SHOTS}sandbox-inspector.png`, fullPage: true })

  // Readable: no sideways scrolling, a handful of columns, and identifiers on one line.
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true)
  expect(await page.locator('#trades thead th').count()).toBeLessThanOrEqual(6)
  const lines = await rowOf(page, outTradeNo)
    .locator('a.trade-link')
    .evaluate(
      (link) =>
        // The link's text occupies one line box: nothing broke it.
        link.getClientRects().length,
    )
  expect(lines).toBe(1)
  // No cell is forced to break a word: nothing overflows, and only free text may wrap inside a word.
  const broken = await page.evaluate<
    string[]
  >(`[...document.querySelectorAll('#trades th, #trades td, #notifies th, #notifies td')]
    .filter((cell) => cell.scrollWidth > cell.clientWidth || (!cell.classList.contains('wrap') &&
      (getComputedStyle(cell).overflowWrap !== 'normal' || getComputedStyle(cell).wordBreak !== 'normal')))
    .map((cell) => cell.textContent.trim().slice(0, 40))`)
  expect(broken).toEqual([])
  await expectNoSeriousViolations(page, 'the inspector')

  // The notify's first attempt is made and recorded (an earlier test may have asked to drop it).
  await expect
    .poll(async () => {
      const log = await fetch(`${sandbox.url}/_sandbox/log?out_trade_no=${outTradeNo}`)
      return ((await log.json()) as { entries: { type: string; outcome?: string }[] }).entries.filter(
        (e) => e.type === 'notify',
      ).length
    })
    .toBeGreaterThan(0)
  await page.reload()

  // The trade page: the order's facts, the request that opened it, and its notifies with parameters.
  await rowOf(page, outTradeNo).locator('a.trade-link').click()
  await expect(page.locator('h1')).toContainText(outTradeNo)
  await expect(page.locator('#trade-facts')).toContainText('TRADE_SUCCESS')
  await expect(page.locator('#log')).toContainText('create_direct_pay_by_user')
  await expect(page.locator('#log')).toContainText('signature ok')
  await expect(page.locator('#log .log-notify').first()).toContainText('trade_status')
  await page.screenshot({ path: `${SHOTS}sandbox-inspector-trade.png`, fullPage: true })
  await expectNoSeriousViolations(page, 'the inspector trade page')

  // The log, filtered by that order: its calls and notify attempts, nothing of the other order.
  await page.goto(`${inspector()}/log`)
  await expect(page.locator('#log')).toContainText(other.outTradeNo)
  await page.fill('#filter-order', outTradeNo)
  await page.click('#filter button[type=submit]')
  await expect(page).toHaveURL(new RegExp(`out_trade_no=${outTradeNo}`))
  await expect(page.locator('#log')).toContainText(outTradeNo)
  await expect(page.locator('#log')).not.toContainText(other.outTradeNo)
  await expect(page.locator('#log .log-notify').first()).toContainText('notify_id')
  await page.screenshot({ path: `${SHOTS}sandbox-inspector-log.png`, fullPage: true })
  await expectNoSeriousViolations(page, 'the inspector log')
})
