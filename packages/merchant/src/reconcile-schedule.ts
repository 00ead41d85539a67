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
