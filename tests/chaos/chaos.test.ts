import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runChaos } from './chaos-run.js'

/**
 * The load and fault suite. Bounded in `npm test` (CHAOS_PAYMENTS unset: 300 payments, 10
 * senders, one SIGKILL of each server); `npm run test:chaos` runs 10,000 payments with 50 senders
 * and writes the figures to bench/results.json under `chaos`.
 */
const PAYMENTS = Number(process.env['CHAOS_PAYMENTS'] ?? 300)
const SENDERS = Number(process.env['CHAOS_SENDERS'] ?? 10)
const KILLS = Number(process.env['CHAOS_KILLS'] ?? 1)
const LONG = PAYMENTS >= 1000
const RESULTS = new URL('../../bench/results.json', import.meta.url)

describe('chaos: notify storm with faults and SIGKILLs', () => {
  it(
    `${PAYMENTS} payments, ${SENDERS} senders, ${KILLS} SIGKILL(s) of relay and merchant: paid exactly once, nothing lost`,
    async () => {
      const figures = await runChaos({
        payments: PAYMENTS,
        senders: SENDERS,
        killsEach: KILLS,
        decoys: 5,
        drainTimeoutMs: LONG ? 1_500_000 : 40_000,
        timeScale: Number(process.env['CHAOS_TIME_SCALE'] ?? (LONG ? 0.01 : 0.001)),
        seed: Number(process.env['CHAOS_SEED'] ?? 20_241_220),
        log: (line) => console.log(line),
      })
      console.log(`[chaos] figures ${JSON.stringify(figures, null, 2)}`)
      if (LONG) {
        // Merge, never overwrite: bench/run.ts owns the rest of the file.
        let results: Record<string, unknown> = {}
        try {
          results = JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>
        } catch {
          results = {}
        }
        results['chaos'] = { measuredAt: new Date().toISOString(), ...figures }
        writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`)
      }
      expect(figures.faults.sigkills).toEqual({ relay: KILLS, merchant: KILLS })
      expect(figures.results).toEqual({
        paidAtGateway: PAYMENTS,
        paidAtMerchant: PAYMENTS,
        lost: 0,
        duplicated: 0,
        paidWithoutVerifiedNotify: 0,
        notifiesUnacknowledged: 0,
        relayUndelivered: 0,
        decoysPaid: 0,
      })
    },
    LONG ? 3_600_000 : 90_000,
  )
})
