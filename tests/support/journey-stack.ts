import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { buildBrowserParts } from '@alipay-payment-handler/dev-stack/build-browser'
import { startStack, type RunningStack } from '@alipay-payment-handler/dev-stack/stack'

/**
 * The real stack for the polyfill's end-to-end journeys in every engine: what `npm start` runs
 * (sandbox gateway, signing server with the handler's pages, demo shop), on ports of the caller's
 * choosing, so Playwright and the Firefox/WebKit runs never meet the shop journeys' servers.
 */

/** Ports of one journey stack; each runner picks its own so two runners can overlap. */
export interface JourneyPorts {
  merchant: number
  app: number
  gateway: number
}

/** Reads `<prefix>_MERCHANT_PORT`, `<prefix>_APP_PORT` and `<prefix>_GATEWAY_PORT`, with defaults. */
export function journeyPorts(prefix: string, defaults: JourneyPorts): JourneyPorts {
  const port = (name: string, fallback: number) => Number(process.env[`${prefix}_${name}_PORT`] ?? fallback)
  return {
    merchant: port('MERCHANT', defaults.merchant),
    app: port('APP', defaults.app),
    gateway: port('GATEWAY', defaults.gateway),
  }
}

/** The shop's view of an order (GET /api/orders/:id), as far as the journeys look at it. */
export interface JourneyOrder {
  orderId: string
  status: string
  amount: string
  tradeNo?: string
}

/** A trade as the sandbox gateway holds it: a second payment would show as a second trade. */
export interface GatewayTrade {
  status: string
  service: string
}

/** The running stack plus the calls a journey makes around the browser. */
export interface JourneyStack {
  running: RunningStack
  urls: RunningStack['urls']
  buyer: { login: string; password: string }
  /** Puts one tea sachet in a cart on the server and checks out: a new unpaid order. */
  placeOrder(): Promise<JourneyOrder>
  /** The shop's checkout page for an order: the merchant page that calls show(). */
  checkoutUrl(orderId: string): string
  /** The start of the URL the fallback opens in its popup, for this merchant. */
  popupUrl(): string
  order(orderId: string): Promise<JourneyOrder>
  trades(orderId: string): Promise<GatewayTrade[]>
  close(): Promise<void>
}

/**
 * Browser code a forger runs in a window whose `opener` is the merchant page: a paid outcome for
 * the right request with details that look signed, sent every way it could reach the polyfill
 * (a CHECKOUT_READY with its own port, CHECKOUT_DONE on that port, and on the window itself).
 */
export function forgeryScript(paymentRequestId: string, orderId: string): string {
  const forged = {
    type: 'CHECKOUT_DONE',
    payload: {
      paymentRequestId,
      outcome: {
        kind: 'paid',
        details: {
          out_trade_no: orderId,
          trade_no: '2024010122001400000000000001',
          total_fee: '0.01',
          trade_status: 'TRADE_SUCCESS',
          is_success: 'T',
          success: 'true',
          sign_type: 'MD5',
          sign: 'f'.repeat(32),
        },
      },
    },
  }
  return `(() => {
    const forged = ${JSON.stringify(forged)}
    const { port1, port2 } = new MessageChannel()
    port1.onmessage = () => port1.postMessage(forged)
    window.opener.postMessage({ type: 'CHECKOUT_READY', payload: { version: 1 } }, '*', [port2])
    port1.postMessage(forged)
    window.opener.postMessage(forged, '*')
  })()`
}

async function json<T>(response: Response, what: string): Promise<T> {
  if (!response.ok) throw new Error(`[alipay] ${what} answered ${response.status}: ${await response.text()}`)
  return (await response.json()) as T
}

/**
 * Builds the browser parts when their sources changed, then starts the stack on a fresh data
 * folder. Background loops run faster than in production so notifies land within a test.
 */
export async function startJourneyStack(ports: JourneyPorts): Promise<JourneyStack> {
  await buildBrowserParts()
  const dataDir = mkdtempSync(join(tmpdir(), 'alipay-journey-'))
  const debug = process.env['E2E_DEBUG'] === '1'
  let running: RunningStack
  try {
    running = await startStack({
      ports,
      dataDir,
      logger: createLogger({ name: 'journey', level: debug ? 'debug' : 'error', write: (line) => console.error(line) }),
      sandbox: { log: debug ? (line) => console.error(line) : () => undefined },
      signing: { pollIntervalMs: 1_000, outboxIntervalMs: 250, rateLimits: false },
    })
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true })
    throw error
  }
  const { urls } = running
  // The orders were placed here, not in the browser: its checkout link carries the view token.
  const viewTokens = new Map<string, string>()
  const order = async (orderId: string) =>
    json<JourneyOrder>(
      // The journeys look at orders as the shop's operator, whatever browser placed them.
      await fetch(`${urls.merchant}/api/orders/${orderId}`, {
        headers: { authorization: `Bearer ${running.operatorToken}` },
      }),
      `GET order ${orderId}`,
    )
  return {
    running,
    urls,
    buyer: { login: DEMO_BUYER.login, password: DEMO_BUYER.password },
    async placeOrder() {
      const response = await fetch(`${urls.merchant}/api/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: urls.merchant },
        body: JSON.stringify({ items: [{ productId: 'tea-sachet', quantity: 1 }] }),
      })
      const order = await json<JourneyOrder & { viewToken: string }>(response, 'POST /api/checkout')
      viewTokens.set(order.orderId, order.viewToken)
      return order
    },
    checkoutUrl: (orderId) =>
      `${urls.merchant}/checkout.html?order=${orderId}&view=${encodeURIComponent(viewTokens.get(orderId) ?? '')}`,
    popupUrl: () => `${urls.app}/pay/checkout.html?mode=popup&origin=${encodeURIComponent(urls.merchant)}`,
    order,
    async trades(orderId) {
      const response = await fetch(`${urls.gateway}/_sandbox/trades?out_trade_no=${orderId}`)
      return (await json<{ trades: GatewayTrade[] }>(response, 'GET /_sandbox/trades')).trades
    },
    async close() {
      await running.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
