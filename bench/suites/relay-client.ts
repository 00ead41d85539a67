import { nodeHttpClient, undiciHttpClient, type HttpClient } from '@alipay-payment-handler/gateway-client'
import type { BenchRow, BenchSuite } from '../row.js'
import { startServerChild } from '../support/child.js'
import { median, round, runConcurrently } from '../support/stats.js'

/** Forwarded notifies per round, from as many deliveries in flight as the outbox's batch. */
const DELIVERIES = 5_000
const IN_FLIGHT = 32
const WARMUP = 500
const ROUNDS = 5

const BODY =
  'notify_time=2024-05-01+12%3A00%3A06&notify_type=trade_status_sync&notify_id=x&out_trade_no=B1&trade_status=TRADE_SUCCESS&total_fee=0.01&sign_type=MD5&sign=0123456789abcdef0123456789abcdef'

async function deliverAll(client: HttpClient, url: string, count: number): Promise<number> {
  const started = performance.now()
  await runConcurrently(count, IN_FLIGHT, async () => {
    const reply = await client({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: BODY,
      timeoutMs: 10_000,
      purpose: 'notify',
    })
    if (reply.text !== 'success') throw new Error(`merchant answered ${reply.status}`)
  })
  return performance.now() - started
}

/**
 * The relay's outbound half alone, side by side: the same notify POSTs to a merchant in another
 * process, through the `node:http` client and through undici, rounds alternating so drift in the
 * machine's load hits both alike. Decides which client the relay and the gateway calls use.
 */
export const relayClientSuite: BenchSuite = {
  name: 'notify relay client',
  async run() {
    const merchant = await startServerChild({ mode: 'bare-notify' })
    try {
      const times: Record<'node' | 'undici', number[]> = { node: [], undici: [] }
      await deliverAll(nodeHttpClient, merchant.url, WARMUP)
      await deliverAll(undiciHttpClient, merchant.url, WARMUP)
      for (let round = 0; round < ROUNDS; round++) {
        times.node.push(await deliverAll(nodeHttpClient, merchant.url, DELIVERIES))
        times.undici.push(await deliverAll(undiciHttpClient, merchant.url, DELIVERIES))
      }
      const perSecond = (ms: number) => round((DELIVERIES / ms) * 1000)
      const node = perSecond(median(times.node))
      const undici = perSecond(median(times.undici))
      const spread = (values: number[]) => `${perSecond(Math.max(...values))}–${perSecond(Math.min(...values))}`
      const row: BenchRow = {
        what: `relay forwarding, undici client (${DELIVERIES} notifies, ${IN_FLIGHT} in flight)`,
        figure: undici,
        unit: 'notifies/s',
        reference: { what: 'node:http client', figure: node },
        ratio: round(node / undici),
        target: 'report (the faster one is the default)',
        note: `median of ${ROUNDS} alternating rounds; spread undici ${spread(times.undici)}, node:http ${spread(times.node)} notifies/s`,
      }
      return [row]
    } finally {
      await merchant.close()
    }
  },
}
