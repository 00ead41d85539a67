import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeForm, md5Sign, renderGatewayReply, signParams, stringToSign } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import type { BenchRow, BenchSuite } from '../row.js'
import { startServerChild, type ServerChild } from '../support/child.js'
import { listen, round, runConcurrently } from '../support/stats.js'

/** The load: 10,000 notifies from 50 concurrent senders. */
export const NOTIFIES = Number(process.env['BENCH_RELAY_NOTIFIES'] ?? 10_000)
export const SENDERS = 50
/** Not measured: warms both servers (JIT, SQLite pages, keep-alive connections) before the clock starts. */
export const WARMUP = 500
/** A relay that has not delivered everything by then has lost something; the bench says so and goes on. */
export const DELIVERY_TIMEOUT_MS = 120_000
/**
 * The outbox's idle poll. Its default (1 s) is for retries; fresh notifies are pushed by a kick, but
 * a kick buys one round of 20 deliveries, so a backlog drains at 20 per interval once the kicks
 * stop: at the default, this run left 7,259 of 10,000 undelivered after 120 s. 10 ms measures
 * what the relay can do rather than that one setting (see the row's note).
 */
export const OUTBOX_INTERVAL_MS = 10
/** After the last delivery, wait this long for late duplicates before counting. */
export const SETTLE_MS = 500

const CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8'
export const TOTAL_FEE = '0.01'
export const SUBJECT = '测试商品 两杯咖啡'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** 34 lower-case letters and digits, like the gateway's async notify ids. */
const notifyId = (prefix: string, i: number) => `${prefix}${String(i).padStart(8, '0')}`.padEnd(34, 'x')

/** The trade number of notify `i` of a run (`w` warm-up, `m` measured): unique across both. */
export const tradeNoOf = (prefix: string, i: number) =>
  `2024050121001004330${prefix === 'w' ? 1 : 2}${String(i).padStart(8, '0')}`

/**
 * The gateway's single_trade_query reply for a trade of this bench: paid, the bench's amount,
 * signed with the demo partner's key. MD5 notifies move money only once the query confirms them.
 */
function paidTradeReply(tradeNo: string, outTradeNo: string): string {
  const trade = {
    out_trade_no: outTradeNo,
    trade_no: tradeNo,
    trade_status: 'TRADE_SUCCESS',
    total_fee: TOTAL_FEE,
    seller_id: DEMO_PARTNER.sellerId,
  }
  const sign = md5Sign(stringToSign(trade), DEMO_PARTNER.md5Key)
  return renderGatewayReply({ isSuccess: true, trade, sign, signType: 'MD5' })
}

/** Notify bodies signed as the gateway signs them (MD5 with the demo partner's key), built before the clock starts. */
export async function signedNotifies(
  prefix: string,
  count: number,
): Promise<{ outTradeNos: string[]; bodies: string[] }> {
  const outTradeNos: string[] = []
  const bodies: string[] = []
  for (let i = 0; i < count; i++) {
    const outTradeNo = `B${prefix}${String(i).padStart(14, '0')}`
    const params = await signParams(
      {
        notify_time: '2024-05-01 12:00:06',
        notify_type: 'trade_status_sync',
        notify_id: notifyId(prefix, i),
        out_trade_no: outTradeNo,
        subject: SUBJECT,
        payment_type: '1',
        trade_no: tradeNoOf(prefix, i),
        trade_status: 'TRADE_SUCCESS',
        gmt_create: '2024-05-01 11:59:40',
        gmt_payment: '2024-05-01 12:00:04',
        seller_email: DEMO_PARTNER.sellerEmail,
        buyer_email: 'buyer@demo.example',
        seller_id: DEMO_PARTNER.sellerId,
        buyer_id: '2088102122524333',
        price: TOTAL_FEE,
        total_fee: TOTAL_FEE,
        quantity: '1',
      },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    outTradeNos.push(outTradeNo)
    bodies.push(encodeForm(params, 'utf-8'))
  }
  return { outTradeNos, bodies }
}

/**
 * POSTs every body from `SENDERS` concurrent senders until each is answered `success`; returns ms
 * and failures. Several URLs (relays sharing one store) take the bodies in turn.
 */
export async function sendAll(
  url: string | readonly string[],
  bodies: readonly string[],
): Promise<{ ms: number; failures: number }> {
  const urls = typeof url === 'string' ? [url] : url
  let failures = 0
  const started = performance.now()
  await runConcurrently(bodies.length, SENDERS, async (i) => {
    // The gateway sends again when the answer is not `success`; here at once, three times at most.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const response = await fetch(urls[i % urls.length]!, {
          method: 'POST',
          headers: { 'content-type': CONTENT_TYPE },
          body: bodies[i],
        })
        if (response.status === 200 && (await response.text()) === 'success') return
        failures++
      } catch {
        failures++
      }
    }
  })
  return { ms: performance.now() - started, failures }
}

/** The merchant's notify_url: counts deliveries per notify_id, answers `success`. */
export async function startCountingMerchant() {
  const deliveries = new Map<string, number>()
  // Distinct ids per prefix (the first letter), so each delivery is O(1) to count.
  const distinct = new Map<string, number>()
  const delivered = (prefix: string) => distinct.get(prefix) ?? 0
  let waiter: { prefix: string; count: number; resolve: () => void } | undefined
  const receiver = await listen((_method, _url, body) => {
    const id = new URLSearchParams(body).get('notify_id') ?? ''
    const seen = deliveries.get(id) ?? 0
    deliveries.set(id, seen + 1)
    if (seen === 0) distinct.set(id.charAt(0), delivered(id.charAt(0)) + 1)
    if (waiter && id.startsWith(waiter.prefix) && delivered(waiter.prefix) >= waiter.count) waiter.resolve()
    return { body: 'success' }
  })
  return {
    ...receiver,
    deliveries,
    /** Resolves when `count` distinct notifies of `prefix` arrived, or after the timeout. */
    waitFor(prefix: string, count: number, timeoutMs: number): Promise<void> {
      if (delivered(prefix) >= count) return Promise.resolve()
      let timer: ReturnType<typeof setTimeout> | undefined
      return Promise.race([
        new Promise<void>((resolve) => (waiter = { prefix, count, resolve })),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]).finally(() => clearTimeout(timer))
    },
    /** Distinct notifies of `prefix` that arrived, and how many arrived more than once. */
    count(prefix: string): { unique: number; duplicated: number } {
      let unique = 0
      let duplicated = 0
      for (const [id, n] of deliveries) {
        if (!id.startsWith(prefix)) continue
        unique++
        if (n > 1) duplicated++
      }
      return { unique, duplicated }
    },
  }
}

/**
 * A stub gateway: notify_verify answers `true` (the sandbox would say `false` for ids it never
 * sent), single_trade_query answers the trade paid, as the real gateway would for these notifies.
 * `orderOfTrade` maps each trade_no to its out_trade_no.
 */
export async function startStubGateway(orderOfTrade: ReadonlyMap<string, string>) {
  const calls = { verify: 0, query: 0 }
  const gateway = await listen((_method, url) => {
    const query = new URL(url, 'http://gateway.invalid').searchParams
    if (query.get('service') === 'single_trade_query') {
      calls.query++
      const tradeNo = query.get('trade_no') ?? ''
      return { body: paidTradeReply(tradeNo, orderOfTrade.get(tradeNo) ?? query.get('out_trade_no') ?? '') }
    }
    calls.verify++
    return { body: 'true' }
  })
  return { ...gateway, calls }
}

/** Notify relay: gateway → relay → merchant, durable (SQLite), vs a bare server; then the relay's RSS. */
export const relaySuite: BenchSuite = {
  name: 'notify relay',
  async run() {
    const workDir = mkdtempSync(join(tmpdir(), 'alipay-bench-relay-'))
    const closers: (() => Promise<void>)[] = []
    try {
      const warm = await signedNotifies('w', WARMUP)
      const measured = await signedNotifies('m', NOTIFIES)
      const orderOfTrade = new Map<string, string>()
      warm.outTradeNos.forEach((outTradeNo, i) => orderOfTrade.set(tradeNoOf('w', i), outTradeNo))
      measured.outTradeNos.forEach((outTradeNo, i) => orderOfTrade.set(tradeNoOf('m', i), outTradeNo))

      const gateway = await startStubGateway(orderOfTrade)
      closers.push(gateway.close)
      const merchant = await startCountingMerchant()
      closers.push(merchant.close)

      // Reference: the same senders against a stub relay that makes the same HTTP calls (verify,
      // query, forward) and keeps nothing: what is left is the relay's checks and its durability.
      const stub: ServerChild = await startServerChild({
        mode: 'stub-relay',
        gatewayUrl: `${gateway.url}/gateway.do`,
        forwardUrl: `${merchant.url}/notify`,
      })
      closers.push(() => stub.close())
      await sendAll(
        stub.url,
        warm.bodies.map((body) => body.replace('notify_id=w', 'notify_id=sw')),
      )
      await merchant.waitFor('s', WARMUP, DELIVERY_TIMEOUT_MS)
      const referenceStarted = performance.now()
      await sendAll(
        stub.url,
        measured.bodies.map((body) => body.replace('notify_id=m', 'notify_id=sm')),
      )
      await merchant.waitFor('s', WARMUP + NOTIFIES, DELIVERY_TIMEOUT_MS)
      const reference = { ms: performance.now() - referenceStarted }
      await sleep(SETTLE_MS)
      // The memory of a process that only makes the relay's HTTP calls, after the same load.
      const stubAfter = await stub.stats()
      await stub.close()

      const relay = await startServerChild({
        mode: 'signing-server',
        gatewayUrl: `${gateway.url}/gateway.do`,
        dbPath: join(workDir, 'signing.db'),
        outboxIntervalMs: OUTBOX_INTERVAL_MS,
        sessions: {
          outTradeNos: [...warm.outTradeNos, ...measured.outTradeNos],
          merchantNotifyUrl: `${merchant.url}/notify`,
          subject: SUBJECT,
          totalFee: TOTAL_FEE,
        },
      })
      closers.push(() => relay.close())
      await sendAll(`${relay.url}/notify/mapi`, warm.bodies)
      await merchant.waitFor('w', WARMUP, DELIVERY_TIMEOUT_MS)
      const before = await relay.stats()

      const started = performance.now()
      const acked = await sendAll(`${relay.url}/notify/mapi`, measured.bodies)
      await merchant.waitFor('m', NOTIFIES, DELIVERY_TIMEOUT_MS)
      const ms = performance.now() - started
      await sleep(SETTLE_MS)
      const after = await relay.stats()
      const { unique, duplicated } = merchant.count('m')
      const lost = NOTIFIES - unique
      const ratio = ms / reference.ms
      const pending = after.outbox['pending'] ?? 0
      const failed = after.outbox['failed'] ?? 0

      const mb = (bytes: number) => round(bytes / 2 ** 20)
      return [
        {
          what: `notify relay: ${NOTIFIES} notifies, ${SENDERS} concurrent, gateway → relay (SQLite) → merchant`,
          figure: Math.round(ms),
          unit: 'ms',
          reference: {
            what: 'stub relay making the same calls (verify, query, forward), no checks, no storage',
            figure: Math.round(reference.ms),
          },
          ratio: round(ratio),
          target: '≤ 1.5×, 0 lost, 0 duplicated',
          met: ratio <= 1.5 && lost === 0 && duplicated === 0 && acked.failures === 0,
          note:
            `${lost} lost, ${duplicated} duplicated; all acked after ${Math.round(acked.ms)} ms ` +
            `(${Math.round(NOTIFIES / (acked.ms / 1000))}/s received, ${Math.round(NOTIFIES / (ms / 1000))}/s delivered); ` +
            `${acked.failures} non-success answers; notify_verify calls ${gateway.calls.verify - WARMUP}, ` +
            `single_trade_query calls ${gateway.calls.query} (warm-up included: MD5 notifies are confirmed by the query); ` +
            `outbox pending ${pending}, failed ${failed}; relay in a child process (outbox idle poll ${OUTBOX_INTERVAL_MS} ms), ` +
            'stub gateway answers notify_verify true and single_trade_query paid',
        },
        {
          what: `signing server RSS after the ${NOTIFIES}-notify run (child process)`,
          figure: mb(after.rss),
          unit: 'MB',
          reference: { what: 'the stub relay child after its run', figure: mb(stubAfter.rss) },
          target: '≤ 120 MB',
          met: mb(after.rss) <= 120,
          note: `${mb(before.rss)} MB after start-up and ${WARMUP} warm-up notifies; heap ${mb(after.heapUsed)} MB`,
        },
      ] satisfies BenchRow[]
    } finally {
      for (const close of closers.reverse()) await close().catch(() => undefined)
      rmSync(workDir, { recursive: true, force: true })
    }
  },
}
