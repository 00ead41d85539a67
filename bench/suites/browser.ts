import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from '@playwright/test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { SIGN_TYPES, timeProtocol, type ProtocolTimings } from '../browser/protocol-loop.js'
import type { HandlerStack as Stack } from '../../tests/e2e/support/handler-stack.js'
import { judgeRatio, type BenchRow, type BenchSuite } from '../row.js'
import { median, percentile, round } from '../support/stats.js'

// The handler e2e stack, on ports of its own so the bench can run next to `npm run test:e2e`.
process.env['E2E_HANDLER_MERCHANT_PORT'] ??= '4584'
process.env['E2E_HANDLER_APP_PORT'] ??= '4585'
process.env['E2E_HANDLER_GATEWAY_PORT'] ??= '4586'

/** Debian's Chromium and the e2e suite's flags (tests/e2e/support/origins.ts), headless. */
const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/**
 * show() samples with the handler installed, and as many window.open() samples, interleaved. Each
 * pair takes about a second (the show() sample waits for the cashier, then aborts); 5 pairs left
 * the median at the mercy of one slow sample on the shared machine.
 */
const SHOW_SAMPLES = 15
/** Fresh contexts, each timing one first show() with the just-in-time install. */
const FIRST_SHOW_SAMPLES = 3
/** Time each sign type runs for, per side (Node, service worker). */
const PROTOCOL_MS_PER_TYPE = 600
/** A window that has not appeared by then is a failure, not a slow sample. */
const WINDOW_TIMEOUT_MS = 20_000

const CHECKOUT_PATH = '/pay/checkout.html'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Watches the browser's targets (payment-handler-notes §6) and times how long after a click the new
 * window's target is created in a given browser context. That is the one point both windows share:
 * a window.open() popup is created as a page (about:blank) and Playwright then holds it until it has
 * attached, while the handler's window is created as an "other" target and only turns into a page
 * when its first document commits, after checkout.html came back from the server. So the clock stops
 * at the creation of the target that becomes the checkout page, whatever its type was then.
 */
async function targetWatcher(browser: Browser) {
  const cdp: CDPSession = await browser.newBrowserCDPSession()
  const known = new Set<string>()
  /** When each target was first reported, on this process's clock. */
  const createdAt = new Map<string, number>()
  let waiter:
    | { contextId: string; before: ReadonlySet<string>; resolve: (at: { created: number; listed: number }) => void }
    | undefined
  const seen = ({
    targetInfo: info,
  }: {
    targetInfo: { targetId: string; type: string; browserContextId?: string }
  }) => {
    const now = performance.now()
    known.add(info.targetId)
    if (!createdAt.has(info.targetId)) createdAt.set(info.targetId, now)
    if (
      waiter &&
      info.type === 'page' &&
      info.browserContextId === waiter.contextId &&
      !waiter.before.has(info.targetId)
    ) {
      waiter.resolve({ created: createdAt.get(info.targetId) ?? now, listed: now })
      waiter = undefined
    }
  }
  cdp.on('Target.targetCreated', seen)
  cdp.on('Target.targetInfoChanged', seen)
  cdp.on('Target.targetDestroyed', ({ targetId }: { targetId: string }) => createdAt.delete(targetId))
  await cdp.send('Target.setDiscoverTargets', { discover: true })
  return {
    /** The browser context id of a page, as CDP names it. */
    async contextOf(page: Page): Promise<string> {
      const { targetInfos } = await cdp.send('Target.getTargets')
      const id = targetInfos.find((t) => t.type === 'page' && t.url === page.url())?.browserContextId
      if (!id) throw new Error(`[alipay] bench: no target for ${page.url()}`)
      return id
    },
    /**
     * Arms the watcher, runs `act`, and gives the ms from just before `act` to the creation of the
     * first new target of the context that becomes a page (`createdMs`), and to the event that
     * first listed it as a page (`listedMs`).
     */
    async time(contextId: string, act: () => Promise<void>): Promise<{ createdMs: number; listedMs: number }> {
      let timer: ReturnType<typeof setTimeout> | undefined
      const appeared = new Promise<{ created: number; listed: number }>((resolve, reject) => {
        waiter = { contextId, before: new Set(known), resolve }
        timer = setTimeout(
          () => reject(new Error(`[alipay] bench: no window within ${WINDOW_TIMEOUT_MS} ms`)),
          WINDOW_TIMEOUT_MS,
        )
      })
      const started = performance.now()
      await act()
      const at = await appeared.finally(() => clearTimeout(timer))
      return { createdMs: at.created - started, listedMs: at.listed - started }
    },
    detach: () => cdp.detach().catch(() => undefined),
  }
}

type Watcher = Awaited<ReturnType<typeof targetWatcher>>

/**
 * One sample: to the creation of the window's target, to the event that first listed it as a page,
 * and to the checkout page's DOMContentLoaded (page clocks).
 */
interface WindowTiming {
  targetMs: number
  listedMs: number
  loadedMs: number
}

/** Clicks an element where it is, with one input event (no actionability waits inside the timed part). */
async function clicker(page: Page, selector: string): Promise<() => Promise<void>> {
  const box = await page.locator(selector).boundingBox()
  if (!box) throw new Error(`[alipay] bench: ${selector} is not visible`)
  return () => page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
}

/**
 * In a checkout document: when its DOMContentLoaded handlers ended, on the wall clock both pages
 * share (ms), or 0 while they have not. readyState turns "interactive" before the module scripts
 * run and DOMContentLoaded fires, so only a non-zero domContentLoadedEventEnd says it is over;
 * reading it earlier gave the navigation's start instead.
 */
const LOADED_AT = `(() => {
  const entry = performance.getEntriesByType('navigation')[0]
  return entry && entry.domContentLoadedEventEnd > 0 ? performance.timeOrigin + entry.domContentLoadedEventEnd : 0
})()`

/**
 * One show() on the test shop: prepares an order, clicks Buy, times the checkout window, waits for
 * the cashier, then aborts the request so the next sample starts clean.
 */
async function timeShow(
  browser: Browser,
  stack: Stack,
  page: Page,
  watcher: Watcher,
  contextId: string,
): Promise<WindowTiming> {
  const { findHandlerWindow } = await import('@alipay-payment-handler/testing')
  // Page code is strings: bench/ is type-checked as Node code, without the DOM lib.
  await page.evaluate('window.__prepare({})')
  // The checkout goes on to the cashier once its session exists: holding the session keeps it on
  // checkout.html until its load time is read. DOMContentLoaded does not wait for that fetch.
  const release = stack.holdSessionCreation()
  let loadedAt = 0
  let target: { createdMs: number; listedMs: number }
  try {
    target = await watcher.time(contextId, await clicker(page, '#buy'))
    const handlerWindow = await findHandlerWindow(browser, page, CHECKOUT_PATH)
    try {
      const giveUpAt = Date.now() + 15_000
      while (!loadedAt) {
        if (Date.now() > giveUpAt) throw new Error('[bench] the checkout window never finished loading')
        loadedAt = await handlerWindow
          .evaluate<number>(`location.pathname.endsWith('/checkout.html') ? ${LOADED_AT} : 0`, 1_000)
          .catch(() => 0)
        if (!loadedAt) await sleep(5)
      }
      release()
      // Aborting before the worker stored its session would race the worker; wait for the cashier.
      await handlerWindow.waitFor(`location.pathname.startsWith('/cashier/')`, 20_000)
    } finally {
      await handlerWindow.detach()
    }
  } finally {
    release()
  }
  const clickAt = await page.evaluate<number>('window.__clickAt')
  await page.evaluate('window.__request.abort()')
  await page.waitForFunction(`document.querySelector('#status')?.textContent === 'AbortError'`)
  return { targetMs: target.createdMs, listedMs: target.listedMs, loadedMs: loadedAt - clickAt }
}

/** The reference: the same checkout page opened with window.open() from a click on the same shop page. */
async function timeWindowOpen(page: Page, watcher: Watcher, contextId: string): Promise<WindowTiming> {
  const popup = page.waitForEvent('popup')
  const target = await watcher.time(contextId, await clicker(page, '#bench-open'))
  const opened = await popup
  // Polled from here: the checkout's CSP refuses the eval behind waitForFunction.
  let loadedAt = 0
  const giveUpAt = Date.now() + 15_000
  while (!(loadedAt = await opened.evaluate<number>(LOADED_AT))) {
    if (Date.now() > giveUpAt) throw new Error('[bench] the popup never finished loading')
    await sleep(5)
  }
  const clickAt = await page.evaluate<number>('window.__clickAt')
  await opened.close()
  return { targetMs: target.createdMs, listedMs: target.listedMs, loadedMs: loadedAt - clickAt }
}

async function openShop(context: BrowserContext, stack: Stack): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${stack.merchantOrigin}/shop.html`)
  await page.evaluate(`(() => {
    // The click's time on the wall clock both pages share (timeOrigin + event time).
    document.addEventListener('click', (event) => (window.__clickAt = performance.timeOrigin + event.timeStamp), { capture: true })
    // A second button that opens the checkout page as a popup, the way a site without Payment Request would.
    const button = document.createElement('button')
    button.id = 'bench-open'
    button.textContent = 'Open'
    button.addEventListener('click', () => window.open(${JSON.stringify(`${stack.appOrigin}${CHECKOUT_PATH}`)}, '_blank', 'popup,width=420,height=640'))
    document.body.append(button)
  })()`)
  return page
}

/** Builds bench/browser/protocol-sw.ts as one classic script, like the handler's sw.js. */
async function buildProtocolWorker(outDir: string): Promise<string> {
  await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      lib: {
        entry: fileURLToPath(new URL('../browser/protocol-sw.ts', import.meta.url)),
        formats: ['iife'],
        name: 'alipayProtocolBench',
        fileName: () => 'protocol-sw.js',
      },
    },
  })
  return join(outDir, 'protocol-sw.js')
}

const WORKER_PAGE = `<!doctype html><meta charset="utf-8"><title>protocol bench</title>
<script>
  window.timeInWorker = async (ms) => {
    const registration = await navigator.serviceWorker.register('/protocol-sw.js')
    await navigator.serviceWorker.ready
    const channel = new MessageChannel()
    const reply = new Promise((resolve) => (channel.port1.onmessage = (event) => resolve(event.data)))
    registration.active.postMessage(ms, [channel.port2])
    return reply
  }
</script>`

/** protocol/ sign + verify inside a real service worker (WebCrypto, @noble/hashes for MD5). */
async function timeInServiceWorker(browser: Browser, script: Buffer): Promise<ProtocolTimings> {
  const server = createServer((request, response) => {
    if (request.url === '/protocol-sw.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
      response.end(script)
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(WORKER_PAGE)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    // localhost, not 127.0.0.1: the secure context service workers need.
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`)
    const answer = await page.evaluate<{ timings?: ProtocolTimings; error?: string }>(
      `window.timeInWorker(${PROTOCOL_MS_PER_TYPE})`,
    )
    if (!answer.timings) throw new Error(`[alipay] bench: the service worker failed: ${answer.error}`)
    return answer.timings
  } finally {
    await context.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

/** Headless Chromium: show() vs window.open(), the first show() with its install, protocol/ in a service worker. */
export const browserSuite: BenchSuite = {
  name: 'browser',
  async run() {
    const workDir = mkdtempSync(join(tmpdir(), 'alipay-bench-browser-'))
    const { CHROMIUM_ARGS } = await import('../../tests/e2e/support/origins.js')
    const { startHandlerStack } = await import('../../tests/e2e/support/handler-stack.js')
    let browser: Browser | undefined
    let stack: Stack | undefined
    try {
      ;[browser, stack] = await Promise.all([
        chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--headless', ...CHROMIUM_ARGS] }),
        startHandlerStack(),
      ])
      const watcher = await targetWatcher(browser)
      const firstShows: WindowTiming[] = []
      const shows: WindowTiming[] = []
      const opens: WindowTiming[] = []
      for (let sample = 0; sample < FIRST_SHOW_SAMPLES; sample++) {
        const context = await browser.newContext()
        try {
          const page = await openShop(context, stack)
          const contextId = await watcher.contextOf(page)
          firstShows.push(await timeShow(browser, stack, page, watcher, contextId))
          if (sample === FIRST_SHOW_SAMPLES - 1) {
            // Installed now: pairs, so a noisy moment hits both sides, each side first in every
            // other pair, so neither always runs in the wake of the other (an abort's clean-up).
            for (let i = 0; i < SHOW_SAMPLES; i++) {
              if (i % 2 === 0) opens.push(await timeWindowOpen(page, watcher, contextId))
              shows.push(await timeShow(browser, stack, page, watcher, contextId))
              if (i % 2 === 1) opens.push(await timeWindowOpen(page, watcher, contextId))
              await sleep(100)
            }
          }
        } finally {
          await context.close()
        }
      }
      await watcher.detach()

      // Two rounds each, interleaved, best of two per side: the machine is shared, noise only slows.
      const script = readFileSync(await buildProtocolWorker(join(workDir, 'sw')))
      const workerRuns: ProtocolTimings[] = []
      const nodeRuns: ProtocolTimings[] = []
      for (let i = 0; i < 2; i++) {
        nodeRuns.push(await timeProtocol(PROTOCOL_MS_PER_TYPE))
        workerRuns.push(await timeInServiceWorker(browser, script))
      }
      const best = (runs: ProtocolTimings[]) =>
        Object.fromEntries(SIGN_TYPES.map((t) => [t, Math.min(...runs.map((r) => r[t]))])) as ProtocolTimings
      const worker = best(workerRuns)
      const node = best(nodeRuns)

      const list = (samples: WindowTiming[], key: keyof WindowTiming) => samples.map((t) => round(t[key])).join(', ')
      /** The spread of a side: quartiles and extremes (15 samples are too many to list in a note). */
      const spread = (samples: WindowTiming[], key: keyof WindowTiming) => {
        const values = samples.map((t) => t[key])
        const [p25, p75] = [percentile(values, 25), percentile(values, 75)].map(round)
        return `quartiles ${p25}–${p75}, range ${round(Math.min(...values))}–${round(Math.max(...values))}`
      }
      const windowRow = (key: keyof WindowTiming, what: string, note: string, limit: number): BenchRow => {
        const ours = median(shows.map((t) => t[key]))
        const ref = median(opens.map((t) => t[key]))
        return {
          what: `show() → ${what}, handler installed (median of ${SHOW_SAMPLES})`,
          figure: round(ours),
          unit: 'ms',
          reference: { what: 'window.open() of the same page', figure: round(ref) },
          ratio: round(ours / ref),
          target: `≤ ${limit}×`,
          met: judgeRatio(ours / ref, limit),
          note: `show() ${spread(shows, key)}; window.open ${spread(opens, key)} ms; ${note}`,
        }
      }
      const rows: BenchRow[] = [
        windowRow(
          'targetMs',
          'checkout window target (CDP)',
          'click to the creation of the target that becomes the checkout page (both sides at the same point); ' +
            `to the first event listing it as a page, which for show() is after checkout.html committed: show() ` +
            `${round(median(shows.map((t) => t.listedMs)))}, window.open ${round(median(opens.map((t) => t.listedMs)))} ms (medians)`,
          1.3,
        ),
        windowRow(
          'loadedMs',
          'checkout page DOMContentLoaded',
          'page clocks; Playwright holds a window.open() popup until it attaches, which the reference includes',
          2,
        ),
        {
          what: `first show() → checkout window target, with just-in-time install (median of ${FIRST_SHOW_SAMPLES} fresh contexts)`,
          figure: round(median(firstShows.map((t) => t.targetMs))),
          unit: 'ms',
          target: 'report',
          note: `samples ${list(firstShows, 'targetMs')} ms; to DOMContentLoaded ${list(firstShows, 'loadedMs')} ms`,
        },
      ]
      for (const type of SIGN_TYPES) {
        rows.push({
          what: `protocol/ ${type} signParams + verifyParams in a service worker (Chromium)`,
          figure: round(worker[type]),
          unit: 'µs/op',
          reference: { what: 'the same code in Node', figure: round(node[type]) },
          ratio: round(worker[type] / node[type]),
          target: 'report',
          note:
            type === 'MD5' ? 'MD5 is @noble/hashes in the browser, node:crypto in Node' : 'WebCrypto vs node:crypto',
        })
      }
      return rows
    } finally {
      await browser?.close().catch(() => undefined)
      await stack?.close().catch(() => undefined)
      rmSync(workDir, { recursive: true, force: true })
    }
  },
}
