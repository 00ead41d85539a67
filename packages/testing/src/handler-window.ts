import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Browser, Page } from '@playwright/test'

/** A CDP reply as the target sends it: `result` on success, `error` otherwise. */
interface CdpReply {
  id?: number
  result?: CdpResult
  error?: { message: string }
}

/** The fields of a CDP result this driver reads (Runtime.evaluate's, Page.captureScreenshot's). */
interface CdpResult {
  result?: { value?: unknown }
  exceptionDetails?: { exception?: { description?: string } }
  data?: string
  [field: string]: unknown
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The payment handler window, driven over CDP (Playwright never wraps it in a Page; payment-handler-notes §6). */
export interface HandlerWindow {
  readonly targetId: string
  evaluate<T>(expression: string, timeoutMs?: number): Promise<T>
  /** Polls `expression` until it is truthy; the target is listed before its document exists. */
  waitFor(expression: string, ms?: number): Promise<void>
  /** Waits for `document.body.dataset.state === state`. */
  waitForState(state: string, ms?: number): Promise<void>
  click(selector: string): Promise<void>
  /** Saves a PNG of the window (Page.captureScreenshot). */
  screenshot(path: string): Promise<void>
  /** Whether the target still exists (Chromium closes it when show() settles). */
  isOpen(): Promise<boolean>
  detach(): Promise<void>
}

/**
 * Attaches to the window opened by `PaymentRequestEvent.openWindow()` for `page`'s context.
 * The recipe of payment-handler-notes §6, plus: only targets of the merchant page's browser
 * context (a closing context of an earlier test may still list its window), and screenshots.
 */
export async function findHandlerWindow(
  browser: Browser,
  page: Page,
  urlPart: string,
  timeoutMs = 15_000,
): Promise<HandlerWindow> {
  const cdp = await browser.newBrowserCDPSession()
  const deadline = Date.now() + timeoutMs
  let target: { targetId: string; url: string } | undefined
  while (!target) {
    const { targetInfos } = await cdp.send('Target.getTargets')
    const context = targetInfos.find((t) => t.type === 'page' && t.url === page.url())?.browserContextId
    target = targetInfos.find((t) => t.type === 'page' && t.url.includes(urlPart) && t.browserContextId === context)
    if (!target) {
      if (Date.now() > deadline) {
        await cdp.detach()
        throw new Error(`No payment handler window matching "${urlPart}"`)
      }
      await sleep(100)
    }
  }
  const targetId = target.targetId
  // flatten: false, because CDPSession.send() cannot address a child session.
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: false })
  let nextId = 0
  const waiting = new Map<number, (reply: CdpReply) => void>()
  cdp.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return
    const reply = JSON.parse(event.message) as CdpReply
    // Events of the target carry no id; only replies to `send` are waited for.
    if (reply.id === undefined) return
    waiting.get(reply.id)?.(reply)
    waiting.delete(reply.id)
  })
  async function send(method: string, params: Record<string, unknown>, timeoutMs = 15_000): Promise<CdpResult> {
    const id = ++nextId
    const replied = new Promise<CdpReply>((resolve) => waiting.set(id, resolve))
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) })
    const reply: CdpReply = await Promise.race([
      replied,
      sleep(timeoutMs).then(() => ({ error: { message: `${method} timed out` } })),
    ])
    waiting.delete(id)
    if (reply.error) throw new Error(reply.error.message)
    return reply.result ?? {}
  }
  async function evaluate<T>(expression: string, timeoutMs?: number): Promise<T> {
    const result = await send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true, userGesture: true },
      timeoutMs,
    )
    if (result.exceptionDetails) throw new Error(result.exceptionDetails.exception?.description ?? 'script threw')
    return result.result?.value as T
  }
  const window: HandlerWindow = {
    targetId,
    evaluate,
    async waitFor(expression, ms = 15_000) {
      const end = Date.now() + ms
      // Short per-poll timeout: an evaluate sent while the window navigates is never answered.
      while (!(await evaluate<boolean>(`Boolean(${expression})`, 1_000).catch(() => false))) {
        if (Date.now() > end) {
          const state = await evaluate<string>('location.href + " state=" + document.body?.dataset.state').catch(
            () => '?',
          )
          throw new Error(`Timed out waiting for ${expression} (window at ${state})`)
        }
        await sleep(100)
      }
    },
    waitForState(state, ms) {
      return window.waitFor(`document.body && document.body.dataset.state === ${JSON.stringify(state)}`, ms)
    },
    async click(selector) {
      await window.waitFor(
        `document.querySelector(${JSON.stringify(selector)}) && !document.querySelector(${JSON.stringify(selector)}).disabled`,
      )
      await evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`)
    },
    async screenshot(path) {
      // After a cross-origin round trip the window does not paint (no animation frames, capture
      // hangs) until it is brought to front (measured).
      await send('Page.bringToFront', {}, 2_000).catch(() => undefined)
      // Let the last render paint before capturing.
      await evaluate(
        'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))',
        2_000,
      ).catch(() => undefined)
      // Right after bringToFront Chromium may still answer "Unable to capture screenshot".
      let data: string | undefined
      for (let attempt = 1; !data; attempt++) {
        try {
          ;({ data } = (await send('Page.captureScreenshot', { format: 'png' }, 5_000)) as { data: string })
        } catch (error) {
          if (attempt >= 10) throw error
          await sleep(300)
        }
      }
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, Buffer.from(data, 'base64'))
    },
    async isOpen() {
      const { targetInfos } = await cdp.send('Target.getTargets')
      return targetInfos.some((t) => t.targetId === targetId)
    },
    async detach() {
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {})
      await cdp.detach().catch(() => {})
    },
  }
  return window
}
