import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { postCashierPay } from '@alipay-payment-handler/sandbox/testing'
import { startStack } from '@alipay-payment-handler/dev-stack/stack'
import type { BenchSuite } from '../row.js'
import { freePort, percentile, round } from '../support/stats.js'

/** The sample: 1,000 payments, one after another, so each figure is one payment's path. */
const PAYMENTS = Number(process.env['BENCH_TIME_TO_PAID_PAYMENTS'] ?? 1000)
/** How often the merchant's order is read while waiting: well under the figures it measures. */
const POLL_MS = 1
/** Polling the trade about every 5 s (openapi-protocol §5.3): on average a payment waits half of that. */
const SEED_POLLING_P50_MS = 2_500

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function json<T>(response: Response, what: string): Promise<T> {
  const text = await response.text()
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text}`)
  return JSON.parse(text) as T
}

/**
 * Time to paid: from the buyer's Pay press at the sandbox cashier to the merchant's order being
 * `paid`, through the gateway's notify, the payment app's relay and the merchant's own gateway
 * query (money-path rule 1). The stack is `npm start`'s, on loopback, in this process.
 */
export const timeToPaidSuite: BenchSuite = {
  name: 'time to paid',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-bench-paid-'))
    const ports = { merchant: await freePort(), app: await freePort(), gateway: await freePort() }
    // One client paying 1,000 times in a row: the per-client limits (30 sessions a minute) would
    // measure themselves, not the path.
    const stack = await startStack({
      ports,
      dataDir: dir,
      logger: silentLogger(),
      signing: { rateLimits: false },
      merchantRateLimits: false,
    })
    const { merchant, app } = stack.urls
    const json201 = { 'content-type': 'application/json' }
    const times: number[] = []
    // Read the merchant's own store (its SQLite file, committed rows only): the figure ends when the
    // order is `success` there, and reading it costs the servers nothing (its API is rate-limited).
    const orders = new Database(join(dir, 'merchant-orders.db'), { readonly: true, fileMustExist: true })
    const stateOf = orders.prepare<[string], { state: string }>('SELECT state FROM orders WHERE order_id = ?')
    try {
      for (let i = 0; i < PAYMENTS; i++) {
        const order = await json<{ orderId: string; viewToken: string }>(
          await fetch(`${merchant}/api/checkout`, {
            method: 'POST',
            headers: json201,
            body: JSON.stringify({ items: [{ productId: 'tea-sachet', quantity: 1 }] }),
          }),
          'checkout',
        )
        const view = { 'order-view-token': order.viewToken }
        const data = await json<{ data: Record<string, string>; total: unknown }>(
          await fetch(`${merchant}/api/orders/${order.orderId}/payment-data`, { method: 'POST', headers: view }),
          'payment-data',
        )
        const session = await json<{ cashierUrl: string }>(
          await fetch(`${app}/api/sessions`, {
            method: 'POST',
            // As the checkout window sends it, from the payment app's own origin.
            headers: { ...json201, origin: app },
            body: JSON.stringify({
              paymentRequestId: `bench-${i}`,
              merchantOrigin: merchant,
              methodData: data.data,
              total: data.total,
            }),
          }),
          'session',
        )
        // The payment app's cashier link leads, through the gateway, to the cashier page.
        const cashier = await fetch(session.cashierUrl)
        await cashier.body?.cancel()
        const started = performance.now()
        const pressed = await postCashierPay(cashier.url)
        await pressed.body?.cancel()
        for (;;) {
          if (stateOf.get(order.orderId)?.state === 'success') break
          if (performance.now() - started > 30_000) throw new Error(`order ${order.orderId} not paid after 30 s`)
          await sleep(POLL_MS)
        }
        times.push(performance.now() - started)
      }
    } finally {
      orders.close()
      await stack.close()
      rmSync(dir, { recursive: true, force: true })
    }
    const p50 = percentile(times, 50)
    const p99 = percentile(times, 99)
    return [
      {
        what: `time to paid p50: cashier Pay press → merchant order paid, via notify and relay (${PAYMENTS} payments)`,
        figure: round(p50),
        unit: 'ms',
        reference: { what: '5 s polling (openapi-protocol §5.3), p50 by arithmetic', figure: SEED_POLLING_P50_MS },
        ratio: Number((p50 / SEED_POLLING_P50_MS).toFixed(3)),
        target: 'report',
      },
      {
        what: `time to paid p99 (${PAYMENTS} payments)`,
        figure: round(p99),
        unit: 'ms',
        target: '≤ 100 ms',
        met: p99 <= 100,
        note: `min ${round(Math.min(...times))} ms, max ${round(Math.max(...times))} ms; includes the merchant's trade query and a ${POLL_MS} ms read loop`,
      },
    ]
  },
}
