import { describe, expect, it } from 'vitest'
import { nextStatementRun, previousBeijingDay, scheduleStatementReconciliation } from './reconcile-schedule.js'
import type { StatementReconcileOptions, StatementReconcileReport } from './statement-reconcile.js'

describe('the daily statement schedule', () => {
  it('runs at the configured Beijing hour, today if it is still ahead, else tomorrow', () => {
    // 2026-12-05 01:00 UTC is 09:00 in Beijing.
    const at = Date.parse('2026-12-05T01:00:00Z')
    expect(new Date(nextStatementRun(at, 10)).toISOString()).toBe('2026-12-05T02:00:00.000Z')
    expect(new Date(nextStatementRun(at, 9)).toISOString()).toBe('2026-12-06T01:00:00.000Z')
    expect(new Date(nextStatementRun(at, 0)).toISOString()).toBe('2026-12-05T16:00:00.000Z')
    expect(() => nextStatementRun(at, 24)).toThrow(RangeError)
  })

  it("reads the previous Beijing day's statement", () => {
    expect(previousBeijingDay(Date.parse('2026-12-05T01:00:00Z'))).toBe('2026-12-04')
    // 17:00 UTC is already the next day in Beijing.
    expect(previousBeijingDay(Date.parse('2026-12-05T17:00:00Z'))).toBe('2026-12-05')
  })

  it('asks the order service for yesterday when kicked, and stops cleanly', async () => {
    const calls: StatementReconcileOptions[] = []
    const loop = scheduleStatementReconciliation(
      {
        reconcileStatement: async (options) => {
          calls.push(options)
          return {} as StatementReconcileReport
        },
      },
      { hour: 10, now: () => Date.parse('2026-12-06T03:00:00Z') },
    )
    loop.kick()
    await loop.stop()
    expect(calls).toEqual([{ billDate: '2026-12-05', trigger: 'schedule' }])
  })
})
