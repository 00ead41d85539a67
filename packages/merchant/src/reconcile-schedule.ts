import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { silentLogger, type Logger, startLoop, type Loop } from '@alipay-payment-handler/server-runtime'
import { DEFAULT_RECONCILE_LIMIT, DEFAULT_RECONCILE_WINDOW_MS, type ReconcileReport } from './order-reconcile.js'
import type { OrderService } from './order-service.js'
import type { OrderStore } from './order-store.js'

/** How often and how far back the scheduled reconciliation looks. */
export interface ReconcileScheduleOptions {
  /** Time between the end of one pass and the start of the next, across every process. */
  intervalMs: number
  /** Each pass checks the orders created within this window (default 7 days). */
  windowMs?: number
  /** Orders per page (one reconciliation run each; default 200). */
  limit?: number
  /**
   * How long a process may hold the pass between two pages before another takes it over
   * (default 10 minutes: a page of 200 gateway queries, each with its timeout, fits well within).
   */
  leaseMs?: number
  /** This process's name on the lease (default: host, pid and a random suffix). */
  owner?: string
  now?: () => number
  logger?: Logger
}

/** What one call of `runScheduledPass` did. */
export interface ScheduledPassResult {
  /** `skipped`: another process holds the pass, or the last one finished less than an interval ago. */
  outcome: 'finished' | 'stopped' | 'lost-lease' | 'skipped'
  /** Reports of the pages this call ran, newest orders first. */
  pages: ReconcileReport[]
}

/** What the scheduled pass needs: the store (lease and cursor) and the order service (a `Merchant` has both). */
export interface ScheduledPassDeps {
  store: Pick<
    OrderStore,
    'claimReconcilePass' | 'saveReconcileCursor' | 'finishReconcilePass' | 'releaseReconcileLease'
  >
  orders: Pick<OrderService, 'reconcile'>
}

/** The default lease: see `ReconcileScheduleOptions.leaseMs`. */
export const DEFAULT_RECONCILE_LEASE_MS = 10 * 60_000

/**
 * One scheduled pass, or its continuation: pages through every order of the window newest first,
 * `limit` at a time, saving the cursor in the store after each page, so a restarted process (or
 * another one) resumes where this one stopped. The store's lease makes it run on one process of a
 * cluster at a time, and once per interval. `shouldStop` is asked between pages (a shutdown); the
 * lease is then released and the cursor kept.
 */
export async function runScheduledPass(
  deps: ScheduledPassDeps,
  options: ReconcileScheduleOptions & { owner: string },
  shouldStop: (pagesDone: number) => boolean = () => false,
): Promise<ScheduledPassResult> {
  const now = options.now ?? Date.now
  const leaseMs = options.leaseMs ?? DEFAULT_RECONCILE_LEASE_MS
  const limit = options.limit ?? DEFAULT_RECONCILE_LIMIT
  const claimOptions = {
    leaseMs,
    intervalMs: options.intervalMs,
    windowMs: options.windowMs ?? DEFAULT_RECONCILE_WINDOW_MS,
  }
  const pass = await deps.store.claimReconcilePass(options.owner, now(), claimOptions)
  const pages: ReconcileReport[] = []
  if (!pass) return { outcome: 'skipped', pages }
  let cursor = pass.cursor
  for (;;) {
    const report = await deps.orders.reconcile({
      trigger: 'schedule',
      since: pass.since,
      limit,
      newestFirst: true,
      ...(cursor ? { before: cursor } : {}),
    })
    pages.push(report)
    if (!report.nextBefore) break
    cursor = report.nextBefore
    if (!(await deps.store.saveReconcileCursor(options.owner, cursor, now(), leaseMs))) {
      return { outcome: 'lost-lease', pages }
    }
    if (shouldStop(pages.length)) {
      await deps.store.releaseReconcileLease(options.owner)
      return { outcome: 'stopped', pages }
    }
  }
  await deps.store.finishReconcilePass(options.owner, now())
  return { outcome: 'finished', pages }
}

/**
 * Runs the scheduled pass now and then every `intervalMs` (see `runScheduledPass`). Every
 * merchant process may start it: the store decides which one runs each pass, and its cursor
 * carries a pass over a restart. Stopping the loop ends the pass after the page in progress.
 */
export function scheduleReconciliation(deps: ScheduledPassDeps, options: ReconcileScheduleOptions): Loop {
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  let stopping = false
  const loop = startLoop(
    'reconcile',
    () => runScheduledPass(deps, { ...options, owner }, () => stopping),
    // The interval itself is kept by the store across processes; this only asks often enough.
    Math.min(options.intervalMs, 60_000),
    options.logger ?? silentLogger(),
  )
  return {
    kick: () => loop.kick(),
    async stop() {
      stopping = true
      await loop.stop()
    },
  }
}
