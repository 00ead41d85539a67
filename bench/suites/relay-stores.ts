import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, startThrowawayPostgres } from '@alipay-payment-handler/testing/postgres'
import type { BenchRow, BenchSuite } from '../row.js'
import { startServerChild, type ServerChild } from '../support/child.js'
import { round } from '../support/stats.js'
import {
  DELIVERY_TIMEOUT_MS,
  NOTIFIES,
  OUTBOX_INTERVAL_MS,
  SENDERS,
  SETTLE_MS,
  SUBJECT,
  TOTAL_FEE,
  WARMUP,
  sendAll,
  signedNotifies,
  startCountingMerchant,
  startStubGateway,
  tradeNoOf,
} from './relay.js'

/** Issue 22's target: the relay on PostgreSQL within 1.5× of the same run on SQLite. */
const LIMIT = 1.5

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface StoreRun {
  ms: number
  ackMs: number
  failures: number
  lost: number
  duplicated: number
  /** Outbox rows not delivered, summed over the processes' view (one shared table on PostgreSQL). */
  undelivered: number
}

/**
 * The relay's store under the relay bench's load: the same 10,000 notifies from 50 senders through
 * relays on SQLite (one process: SQLite is one process's store), on PostgreSQL with one process,
 * and on PostgreSQL with two processes sharing the database (the senders take them in turn, as a
 * round-robin balancer would; each process leases outbox jobs with SKIP LOCKED). Each run has a
 * store, a merchant and counters of its own; the 0-lost check is the relay row's.
 */
export const relayStoresSuite: BenchSuite = {
  name: 'notify relay stores',
  async run() {
    const workDir = mkdtempSync(join(tmpdir(), 'alipay-bench-stores-'))
    const closers: (() => Promise<void>)[] = []
    try {
      const warm = await signedNotifies('w', WARMUP)
      const measured = await signedNotifies('m', NOTIFIES)
      const orderOfTrade = new Map<string, string>()
      warm.outTradeNos.forEach((outTradeNo, i) => orderOfTrade.set(tradeNoOf('w', i), outTradeNo))
      measured.outTradeNos.forEach((outTradeNo, i) => orderOfTrade.set(tradeNoOf('m', i), outTradeNo))
      const gateway = await startStubGateway(orderOfTrade)
      closers.push(gateway.close)

      // DATABASE_URL: a server of the caller's; else a throwaway cluster with durability on
      // (fsync, synchronous_commit), as a deployment runs it.
      let clusterUrl = process.env['DATABASE_URL']
      if (!clusterUrl) {
        const cluster = await startThrowawayPostgres({ fast: false })
        closers.push(() => cluster.stop())
        clusterUrl = cluster.url
      }

      /** One run: `processes` relays on the store at `dbPath`, the warm-up, then the measured notifies. */
      async function measure(dbPath: string, processes: number): Promise<StoreRun> {
        const store = dbPath.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'
        process.stdout.write(`[alipay] bench: relay on ${store}, ${processes} process(es)…\n`)
        const merchant = await startCountingMerchant()
        const relays: ServerChild[] = []
        try {
          for (let i = 0; i < processes; i++) {
            relays.push(
              await startServerChild({
                mode: 'signing-server',
                gatewayUrl: `${gateway.url}/gateway.do`,
                dbPath,
                outboxIntervalMs: OUTBOX_INTERVAL_MS,
                // The first process stores the sessions; the others find them in the shared store.
                ...(i === 0
                  ? {
                      sessions: {
                        outTradeNos: [...warm.outTradeNos, ...measured.outTradeNos],
                        merchantNotifyUrl: `${merchant.url}/notify`,
                        subject: SUBJECT,
                        totalFee: TOTAL_FEE,
                      },
                    }
                  : {}),
              }),
            )
          }
          const urls = relays.map((r) => `${r.url}/notify/mapi`)
          await sendAll(urls, warm.bodies)
          await merchant.waitFor('w', WARMUP, DELIVERY_TIMEOUT_MS)
          const started = performance.now()
          const acked = await sendAll(urls, measured.bodies)
          await merchant.waitFor('m', NOTIFIES, DELIVERY_TIMEOUT_MS)
          const ms = performance.now() - started
          await sleep(SETTLE_MS)
          const { unique, duplicated } = merchant.count('m')
          const outbox = (await relays[0]!.stats()).outbox
          return {
            ms,
            ackMs: acked.ms,
            failures: acked.failures,
            lost: NOTIFIES - unique,
            duplicated,
            undelivered: (outbox['pending'] ?? 0) + (outbox['failed'] ?? 0),
          }
        } finally {
          for (const relay of relays) await relay.close().catch(() => undefined)
          await merchant.close()
        }
      }

      const sqlite = await measure(join(workDir, 'signing.db'), 1)
      const rows: BenchRow[] = []
      const describe = (run: StoreRun) =>
        `${run.lost} lost, ${run.duplicated} duplicated, outbox undelivered ${run.undelivered}; all acked after ` +
        `${Math.round(run.ackMs)} ms (${Math.round(NOTIFIES / (run.ms / 1000))}/s delivered); ${run.failures} non-success answers`
      const clean = (run: StoreRun) =>
        run.lost === 0 && run.duplicated === 0 && run.failures === 0 && run.undelivered === 0
      rows.push({
        what: `notify relay on SQLite, 1 process: ${NOTIFIES} notifies, ${SENDERS} concurrent`,
        figure: Math.round(sqlite.ms),
        unit: 'ms',
        target: '0 lost, 0 duplicated',
        met: clean(sqlite),
        note: `${describe(sqlite)}; the reference of the two PostgreSQL rows below`,
      })
      for (const processes of [1, 2]) {
        const database = await createTestDatabase(clusterUrl)
        try {
          const run = await measure(database.url, processes)
          const ratio = run.ms / sqlite.ms
          rows.push({
            what: `notify relay on PostgreSQL, ${processes} process${processes > 1 ? 'es' : ''}: ${NOTIFIES} notifies, ${SENDERS} concurrent`,
            figure: Math.round(run.ms),
            unit: 'ms',
            reference: { what: 'the same run on SQLite, 1 process', figure: Math.round(sqlite.ms) },
            ratio: round(ratio),
            target: `≤ ${LIMIT}×, 0 lost, 0 duplicated`,
            met: ratio <= LIMIT && clean(run),
            note:
              `${describe(run)}; ` +
              (processes > 1 ? 'senders take the processes in turn; ' : '') +
              (process.env['DATABASE_URL']
                ? 'DATABASE_URL server'
                : 'throwaway cluster, fsync and synchronous_commit on'),
          })
        } finally {
          await database.drop()
        }
      }
      return rows
    } finally {
      for (const close of closers.reverse()) await close().catch(() => undefined)
      rmSync(workDir, { recursive: true, force: true })
    }
  },
}
