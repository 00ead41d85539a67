import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOrderId, signParams } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { judgeRatio, type BenchRow, type BenchSuite } from '../row.js'
import { startServerChild, type ServerChild } from '../support/child.js'
import { percentile, round, runConcurrently } from '../support/stats.js'

/** Connections kept busy at once (autocannon's default). */
const CONNECTIONS = 10
/** Requests per side: 20 samples above p99, a few seconds on an idle machine. */
const REQUESTS = 2_000
/** Not measured: JIT, SQLite pages, keep-alive connections. */
const WARMUP = 200
/**
 * The measured requests of each side come in this many turns, the sides taking turns (and the
 * first turn changing sides each round): on a shared machine the load of its neighbours drifts
 * over seconds, and one side measured wholly after the other was then as likely to gain as to lose
 * from it (the ratio swung from 0.34× to 1.19× over three runs of the same code).
 */
const ROUNDS = 8

const MERCHANT_ORIGIN = 'http://localhost:4100'

/** Distinct create-session bodies (own order, own paymentRequestId), signed before the clock starts. */
async function sessionBodies(count: number): Promise<string[]> {
  const bodies: string[] = []
  for (let i = 0; i < count; i++) {
    const orderId = generateOrderId()
    const methodData = await signParams(
      {
        service: 'mobile.securitypay.pay',
        partner: DEMO_PARTNER.partner,
        _input_charset: 'utf-8',
        notify_url: `${MERCHANT_ORIGIN}/api/notify`,
        out_trade_no: orderId,
        subject: 'Jasmine green tea, 100 g',
        payment_type: '1',
        seller_id: DEMO_PARTNER.sellerId,
        total_fee: '0.01',
        body: 'Loose leaf, spring harvest',
        it_b_pay: '30m',
      },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    bodies.push(
      JSON.stringify({
        paymentRequestId: `pr-${i}-${orderId}`,
        merchantOrigin: MERCHANT_ORIGIN,
        methodData,
        total: { currency: 'CNY', value: '0.01' },
        device: 'pc',
      }),
    )
  }
  return bodies
}

interface Load {
  p50: number
  p99: number
  perSecond: number
}

/** Latencies (ms) and time spent (s) of one side, summed over its turns. */
interface Sample {
  latencies: number[]
  seconds: number
}

const newSample = (): Sample => ({ latencies: [], seconds: 0 })

/** POSTs each body once, `CONNECTIONS` at a time, into `sample`. Any answer but 201 stops the bench. */
async function load(url: string, bodies: readonly string[], sample: Sample = newSample()): Promise<void> {
  const started = performance.now()
  await runConcurrently(bodies.length, CONNECTIONS, async (i) => {
    const t0 = performance.now()
    const response = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      // As the checkout window sends it: the signing server takes state changes from its own origin only.
      headers: { 'content-type': 'application/json', origin: url },
      body: bodies[i],
    })
    const text = await response.text()
    sample.latencies.push(performance.now() - t0)
    if (response.status !== 201)
      throw new Error(`[alipay] bench: POST /api/sessions answered ${response.status}: ${text}`)
  })
  sample.seconds += (performance.now() - started) / 1000
}

function summary(sample: Sample): Load {
  return {
    p50: percentile(sample.latencies, 50),
    p99: percentile(sample.latencies, 99),
    perSecond: sample.latencies.length / sample.seconds,
  }
}

/**
 * Signing server: POST /api/sessions vs a bare Hono route answering the same JSON, same process
 * shape, same client, bodies and warm-up; the two take turns (see ROUNDS).
 */
export const sessionsSuite: BenchSuite = {
  name: 'signing server',
  async run() {
    const bodies = await sessionBodies(WARMUP * 2 + REQUESTS * 2)
    const take = (() => {
      let at = 0
      return (n: number) => bodies.slice(at, (at += n))
    })()

    const workDir = mkdtempSync(join(tmpdir(), 'alipay-bench-sessions-'))
    const servers: ServerChild[] = []
    const oursSample = newSample()
    const referenceSample = newSample()
    try {
      const server = await startServerChild({
        mode: 'signing-server',
        merchantOrigin: MERCHANT_ORIGIN,
        dbPath: join(workDir, 'signing.db'),
      })
      servers.push(server)
      const first = await fetch(`${server.url}/api/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: take(1)[0],
      })
      // Both servers run from here on; the one not under load is idle.
      const bare = await startServerChild({ mode: 'bare-sessions', cannedBody: await first.json() })
      servers.push(bare)
      await load(server.url, take(WARMUP - 1))
      await load(bare.url, take(WARMUP))
      const turn = REQUESTS / ROUNDS
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [
          () => load(server.url, take(turn), oursSample),
          () => load(bare.url, take(turn), referenceSample),
        ]
        for (const side of round % 2 === 0 ? sides : sides.reverse()) await side()
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()))
      rmSync(workDir, { recursive: true, force: true })
    }

    const shape = `${REQUESTS} requests, ${CONNECTIONS} connections`
    const ours = summary(oursSample)
    const reference = summary(referenceSample)
    const refWhat = 'bare Hono route, same JSON'
    const p99Ratio = ours.p99 / reference.p99
    return [
      {
        what: `create-session latency p50 (${shape})`,
        figure: round(ours.p50),
        unit: 'ms',
        reference: { what: refWhat, figure: round(reference.p50) },
        ratio: round(ours.p50 / reference.p50),
        target: 'report',
      },
      {
        what: `create-session latency p99 (${shape})`,
        figure: round(ours.p99),
        unit: 'ms',
        reference: { what: refWhat, figure: round(reference.p99) },
        ratio: round(p99Ratio),
        target: '≤ 1.5×',
        met: judgeRatio(p99Ratio, 1.5),
        note: 'signing server in a child process, SQLite file in the temp folder, rate limits off (30/min per client otherwise)',
      },
      {
        what: `create-session throughput (${shape})`,
        figure: round(ours.perSecond),
        unit: 'req/s',
        reference: { what: refWhat, figure: round(reference.perSecond) },
        ratio: round(ours.perSecond / reference.perSecond),
        target: '≥ 0.8×',
        met: ours.perSecond / reference.perSecond >= 0.8,
      },
    ] satisfies BenchRow[]
  },
}
