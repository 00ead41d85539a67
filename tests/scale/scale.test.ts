import { readFileSync, writeFileSync } from 'node:fs'
import { createTestDatabase, type TestDatabase } from '@alipay-payment-handler/testing/postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { runScale, summary } from './scale-run.js'

/**
 * The scale-out suite: several payment-app and merchant processes on one PostgreSQL, each kind
 * behind a round-robin proxy, under the sandbox's notify faults and SIGKILLs. Bounded in
 * `npm test` (SCALE_PAYMENTS unset: 100 payments, 2 kills: one payment app, one merchant); `npm run test:scale` runs the long
 * one and writes its figures to bench/results.json under `scale`.
 * SCALE_STORE=sqlite runs the same on SQLite files, one process of each kind (SQLite is one
 * process's store).
 */
const PAYMENTS = Number(process.env['SCALE_PAYMENTS'] ?? 100)
const SENDERS = Number(process.env['SCALE_SENDERS'] ?? 10)
const KILLS = Number(process.env['SCALE_KILLS'] ?? 2)
const STORE = process.env['SCALE_STORE'] ?? 'postgres'
const LONG = PAYMENTS >= 1000
const RESULTS = new URL('../../bench/results.json', import.meta.url)

let database: TestDatabase | undefined
afterAll(async () => {
  await database?.drop()
})

// PostgreSQL: 3 payment apps and 2 merchants on one database. SQLite is one process's store.
const shape = STORE === 'sqlite' ? { apps: 1, merchants: 1 } : { apps: 3, merchants: 2 }

describe('scale: payment apps and merchants on one store, behind proxies', () => {
  it(
    `${PAYMENTS} payments, ${shape.apps} payment apps + ${shape.merchants} merchants on ${STORE}, ${KILLS} SIGKILL(s): ` +
      '0 lost, 0 paid twice, 0 stuck in the outbox',
    async () => {
      if (STORE !== 'sqlite') {
        // A database of its own in the run's cluster (DATABASE_URL, or the throwaway one).
        database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
      }
      const figures = await runScale({
        payments: PAYMENTS,
        senders: SENDERS,
        kills: KILLS,
        ...shape,
        appDatabaseUrl: database?.url,
        merchantDatabaseUrl: database?.url,
        decoys: 5,
        drainTimeoutMs: LONG ? 1_500_000 : 60_000,
        timeScale: Number(process.env['SCALE_TIME_SCALE'] ?? (LONG ? 0.01 : 0.001)),
        seed: Number(process.env['SCALE_SEED'] ?? 20_261_207),
        log: (line) => console.log(line),
      })
      console.log(`[scale] figures ${JSON.stringify(figures, null, 2)}`)
      console.log(summary(figures))
      if (LONG) {
        // Merge, never overwrite: bench/run.ts and the chaos suite own the rest of the file.
        let results: Record<string, unknown> = {}
        try {
          results = JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>
        } catch {
          results = {}
        }
        results['scale'] = { measuredAt: new Date().toISOString(), ...figures }
        writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`)
      }
      expect(figures.faults.sigkills.apps + figures.faults.sigkills.merchants).toBe(KILLS)
      expect(figures.results).toEqual({
        paidAtGateway: PAYMENTS,
        paidAtMerchant: PAYMENTS,
        lost: 0,
        paidTwice: 0,
        paidWithoutVerifiedNotify: 0,
        notifiesUnacknowledged: 0,
        stuckInOutbox: 0,
        decoysPaid: 0,
      })
    },
    LONG ? 3_600_000 : 150_000,
  )
})
