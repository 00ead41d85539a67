import { silentLogger, type Logger, startLoop, type Loop } from '@alipay-payment-handler/server-runtime'
import { DEFAULT_RECONCILE_WINDOW_MS } from './order-reconcile.js'
import type { OrderService } from './order-service.js'

/** How often and how far back the scheduled reconciliation looks. */
export interface ReconcileScheduleOptions {
  /** Time between the end of one run and the start of the next. */
  intervalMs: number
  /** Each run checks the orders created within this window (default 7 days). */
  windowMs?: number
  /** At most this many orders per run (default 200). */
  limit?: number
  now?: () => number
  logger?: Logger
}

/**
 * Runs `orders.reconcile()` now and then every `intervalMs`. It keeps no state of its own: the
 * report lives in the store, so after a restart the schedule simply runs again.
 */
export function scheduleReconciliation(
  orders: Pick<OrderService, 'reconcile'>,
  options: ReconcileScheduleOptions,
): Loop {
  const now = options.now ?? Date.now
  const windowMs = options.windowMs ?? DEFAULT_RECONCILE_WINDOW_MS
  return startLoop(
    'reconcile',
    () =>
      orders.reconcile({
        trigger: 'schedule',
        since: now() - windowMs,
        ...(options.limit ? { limit: options.limit } : {}),
      }),
    options.intervalMs,
    options.logger ?? silentLogger(),
  )
}

/** Options of the daily statement run. */
export interface StatementScheduleOptions {
  /**
   * Beijing hour (0–23) at which yesterday's statement is read. Alipay makes a day's statement
   * available the next morning; the default, 10, leaves room for a late one.
   */
  hour?: number
  now?: () => number
  logger?: Logger
}

const BEIJING_OFFSET_MS = 8 * 3600_000
const DAY_MS = 24 * 3600_000

/** The first instant after `now` at `hour`:00 Beijing time. */
export function nextStatementRun(now: number, hour: number): number {
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new RangeError(`hour must be 0 to 23, not ${hour}`)
  const beijingMidnight = Math.floor((now + BEIJING_OFFSET_MS) / DAY_MS) * DAY_MS - BEIJING_OFFSET_MS
  const today = beijingMidnight + hour * 3600_000
  return today > now ? today : today + DAY_MS
}

/** The Beijing day before the one `now` falls in, as `yyyy-MM-dd`: the statement a run at `now` reads. */
export function previousBeijingDay(now: number): string {
  return new Date(now + BEIJING_OFFSET_MS - DAY_MS).toISOString().slice(0, 10)
}

/**
 * Reads yesterday's statement once a day at `hour` (Beijing time), beside the per-order
 * schedule. Like it, it keeps no state: every report is in the store.
 */
export function scheduleStatementReconciliation(
  orders: Pick<OrderService, 'reconcileStatement'>,
  options: StatementScheduleOptions = {},
): Loop {
  const now = options.now ?? Date.now
  const hour = options.hour ?? 10
  const logger = options.logger ?? silentLogger()
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<unknown> | undefined
  let stopped = false
  const run = () => {
    if (stopped || running) return
    const billDate = previousBeijingDay(now())
    running = orders
      .reconcileStatement({ billDate, trigger: 'schedule' })
      .catch((error: unknown) => logger.error('reconcile.statement-failed', { billDate, error }))
      .finally(() => {
        running = undefined
        arm()
      })
  }
  const arm = () => {
    if (stopped) return
    clearTimeout(timer)
    // Long waits are fine here: a day is well under setTimeout's 24.8-day limit.
    timer = setTimeout(run, Math.max(0, nextStatementRun(now(), hour) - now()))
    timer.unref?.()
  }
  nextStatementRun(0, hour) // refuses a bad hour at once
  arm()
  return {
    kick: () => {
      clearTimeout(timer)
      run()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
