import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { openCashier, payParams } from '@alipay-payment-handler/sandbox/testing'
import { SHOP_ORIGIN } from './origins.js'

/**
 * The sandbox inspector's trigger buttons clicked in Debian's Firefox ESR: its forms must reach the
 * admin guard with their own origin (not `Origin: null`), while a page of another origin is still
 * refused.
 */
const FIREFOX_PATH = process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr'
const WAIT_MS = 15_000

let dir: string
let sandbox: RunningSandbox
let browser: Browser

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alipay-inspector-firefox-'))
  ;[sandbox, browser] = await Promise.all([
    startSandbox(demoSandboxConfig({ port: 0, dbPath: join(dir, 'sandbox.db'), log: () => {} })),
    puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true }),
  ])
})

afterAll(async () => {
  await browser?.close()
  await sandbox?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function newTrade(): Promise<string> {
  const params = payParams({ subject: 'Firefox order' })
  await openCashier(sandbox.gatewayUrl, params)
  return params['out_trade_no']!
}

const inspector = () => `${sandbox.url}/_sandbox/inspector`

/** Clicks a button that submits a form and waits for the page it leads to. */
async function submit(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), page.click(selector)])
}

const resultText = (page: Page) => page.$eval('#trigger-result', (element) => element.textContent ?? '')

async function statusOf(outTradeNo: string): Promise<string[]> {
  const answer = await fetch(`${sandbox.url}/_sandbox/trades?out_trade_no=${outTradeNo}`)
  return ((await answer.json()) as { trades: { status: string }[] }).trades.map((t) => t.status)
}

test('the inspector trigger buttons work when clicked in Firefox', async () => {
  const paid = await newTrade()
  const closed = await newTrade()
  const page = await browser.newPage()
  try {
    await page.goto(inspector())
    // The trigger button of one order's row.
    const buttonOf = async (outTradeNo: string, trigger: string) => {
      const rows = await page.$$('#trades tbody tr')
      for (const row of rows) {
        if ((await row.evaluate((tr) => tr.textContent ?? '')).includes(outTradeNo)) {
          const button = await row.$(`button[data-trigger=${trigger}]`)
          if (button) return button
        }
      }
      throw new Error(`no ${trigger} button for ${outTradeNo}`)
    }
    await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), (await buttonOf(paid, 'pay')).click()])
    expect(await resultText(page)).toBe(`pay: ${paid} is TRADE_SUCCESS`)
    await Promise.all([page.waitForNavigation({ timeout: WAIT_MS }), (await buttonOf(closed, 'close')).click()])
    expect(await resultText(page)).toBe(`close: ${closed} is TRADE_CLOSED`)
    await submit(page, '#triggers button[data-trigger=fail-next]')
    expect(await resultText(page)).toBe('fail-next: done')
    expect(await statusOf(paid)).toEqual(['TRADE_SUCCESS'])
    expect(await statusOf(closed)).toEqual(['TRADE_CLOSED'])
  } finally {
    await page.close()
  }
})

test('attack: in Firefox, a trigger form posted from another origin is refused, even with the right token', async () => {
  const outTradeNo = await newTrade()
  const page = await browser.newPage()
  try {
    await page.goto(inspector())
    const token = await page.$eval('input[name=csrf]', (input) => input.getAttribute('value') ?? '')
    await page.goto(`${SHOP_ORIGIN}/tests/e2e/fixtures/protocol.html`)
    await Promise.all([
      page.waitForNavigation({ timeout: WAIT_MS }),
      page.evaluate(
        `(() => {
          const form = document.createElement('form')
          form.method = 'post'
          form.action = ${JSON.stringify(`${sandbox.url}/_sandbox/triggers/pay`)}
          for (const [name, value] of Object.entries(${JSON.stringify({ csrf: token, out_trade_no: outTradeNo })})) {
            const input = document.createElement('input')
            input.type = 'hidden'
            input.name = name
            input.value = value
            form.append(input)
          }
          document.body.append(form)
          form.submit()
        })()`,
      ),
    ])
    expect(await page.$eval('body', (body) => body.textContent ?? '')).toContain('CROSS_ORIGIN_REFUSED')
    expect(await statusOf(outTradeNo)).toEqual(['WAIT_BUYER_PAY'])
  } finally {
    await page.close()
  }
})
