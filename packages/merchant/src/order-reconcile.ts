import { amountsEqual, isPaidStatus } from '@alipay-payment-handler/protocol'
import { GatewayError, tradeMismatch, type TradeLookup } from '@alipay-payment-handler/gateway-client'
import type { Logger } from '@alipay-payment-handler/server-runtime'
import type { Order, OrderCursor, OrderPatch, OrderState, OrderStore } from './order-store.js'
import { tradeTransition } from './order-transitions.js'

/** What reconciliation repairs by itself: both are the transitions a notify or check would make. */
export type RepairAction = 'MARK_PAID' | 'MARK_CLOSED'

/** Disagreements left to a human: repairing them automatically could lose or invent money. */
export type NeedsHumanReason =
  | 'AMOUNT_MISMATCH'
  | 'SELLER_MISMATCH'
  | 'ORDER_MISMATCH'
  | 'PAID_LOCALLY_CLOSED_REMOTELY'
  | 'PAID_LOCALLY_UNPAID_REMOTELY'
  | 'PAID_LOCALLY_UNKNOWN_REMOTELY'

/** What the gateway said about one order, and what the order should become. */
export type Verdict =
  | { kind: 'agree'; sync?: OrderPatch }
  | { kind: 'repair'; action: RepairAction; from: readonly OrderState[]; patch: OrderPatch }
  | { kind: 'flag'; reason: NeedsHumanReason; message: string }

/** One repair that was applied. */
export interface RepairedEntry {
  orderId: string
  action: RepairAction
  from: OrderState
  to: OrderState
  tradeStatus: string | undefined
  tradeNo: string | undefined
}

/** One disagreement for a human. */
export interface NeedsHumanEntry {
  orderId: string
  reason: NeedsHumanReason
  message: string
  localState: OrderState
  localAmount: string
  tradeStatus: string | undefined
  gatewayAmount: string | undefined
  tradeNo: string | undefined
}

/** An order that could not be checked (the gateway failed); the next run tries again. */
export interface ReconcileErrorEntry {
  orderId: string
  code: string
  message: string
  retryable: boolean
}

/** A repair that found the order already changed, typically by a notify that arrived meanwhile. */
export interface SkippedEntry {
  orderId: string
  action: RepairAction
  state: OrderState | undefined
}

/** The report of one reconciliation run (`GET /orders/reconciliation`, the CLI's JSON). */
export interface ReconcileReport {
  runId: number
  trigger: string
  startedAt: string
  finishedAt: string
  /** Orders created at or after this instant were checked (ISO 8601). */
  since: string
  limit: number
  checked: number
  repaired: RepairedEntry[]
  needsHuman: NeedsHumanEntry[]
  errors: ReconcileErrorEntry[]
  skipped: SkippedEntry[]
  /** More orders than `limit`: run again with `since` = `nextSince` (or `before` = `nextBefore`) to go on. */
  truncated: boolean
  nextSince?: string
  /** Newest-first runs: the last order checked; the next page starts after it. */
  nextBefore?: OrderCursor
}

/** Options of one run. */
export interface ReconcileOptions {
  /** Check orders created at or after this instant (default: the last 7 days). */
  since?: Date | number | string
  /** At most this many orders per run (default 200, at most 5000). */
  limit?: number
  /** Recorded in the report: `manual`, `schedule`, `cli`, … */
  trigger?: string
  /**
   * Newest first, starting after `before` (a page of the scheduled pass): the orders most likely
   * to miss a notify come first. Default: oldest first from `since`.
   */
  newestFirst?: boolean
  before?: OrderCursor
}

// A lost notify is usually noticed within hours; a week also covers a long weekend of outage.
export const DEFAULT_RECONCILE_WINDOW_MS = 7 * 24 * 3600_000
// One gateway query per order, one after another: a few hundred stay well under a minute.
export const DEFAULT_RECONCILE_LIMIT = 200
const MAX_RECONCILE_LIMIT = 5000

function fullyRefunded(order: Order): boolean {
  try {
    return amountsEqual(order.refunded, order.amount)
  } catch {
    return false
  }
}

/**
 * Compares one order with what the gateway says (pure; no I/O). A paid or closed trade moves an
 * unfinished order the way a notify would; anything that would change a paid order, or any
 * trade that is not this order's, is left to a human.
 */
export function judge(order: Order, lookup: TradeLookup, sellerId: string | undefined): Verdict {
  if (!lookup.found) {
    return order.state === 'success'
      ? {
          kind: 'flag',
          reason: 'PAID_LOCALLY_UNKNOWN_REMOTELY',
          message: 'the order is paid locally but the gateway has no such trade',
        }
      : { kind: 'agree' }
  }
  const trade = lookup.trade
  const mismatch = tradeMismatch(order, trade, sellerId)
  if (mismatch) {
    return {
      kind: 'flag',
      reason: mismatch,
      message: `the gateway's trade does not match the order (${mismatch}): amount ${trade.amount ?? '?'} vs ${order.amount}`,
    }
  }
  const sync: OrderPatch | undefined =
    trade.status !== order.tradeStatus || (trade.tradeNo && trade.tradeNo !== order.tradeNo)
      ? { tradeStatus: trade.status, tradeNo: trade.tradeNo }
      : undefined
  const agree = (): Verdict => (sync ? { kind: 'agree', sync } : { kind: 'agree' })
  if (isPaidStatus(trade.status)) {
    if (order.state === 'success') return agree()
    return { kind: 'repair', action: 'MARK_PAID', ...tradeTransition(trade).move }
  }
  if (trade.status === 'TRADE_CLOSED') {
    if (order.state === 'wait' || order.state === 'timeout') {
      return { kind: 'repair', action: 'MARK_CLOSED', ...tradeTransition(trade).move }
    }
    // A fully refunded trade is closed at the gateway and stays paid (and refunded) locally.
    if (order.state === 'success' && !fullyRefunded(order)) {
      return {
        kind: 'flag',
        reason: 'PAID_LOCALLY_CLOSED_REMOTELY',
        message: `the order is paid locally (refunded ${order.refunded} of ${order.amount}) but the trade is closed`,
      }
    }
    return agree()
  }
  if (order.state === 'success') {
    return {
      kind: 'flag',
      reason: 'PAID_LOCALLY_UNPAID_REMOTELY',
      message: `the order is paid locally but the trade is ${trade.status ?? 'without a status'}`,
    }
  }
  return agree()
}

/** What a run needs from the order service. */
export interface ReconcileDeps {
  store: OrderStore
  sellerId: string | undefined
  queryTrade(order: Order): Promise<TradeLookup>
  /** Called once for each order this run marked paid (the same hook notify and check call). */
  paid(order: Order): Promise<void>
  now: () => number
  log: Logger
}

function toTime(value: Date | number | string): number {
  const t = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value)
  if (!Number.isFinite(t)) throw new RangeError(`since must be a date, not ${String(value)}`)
  return t
}

/**
 * One reconciliation run: queries the gateway for every order created since `since`, repairs
 * through the store's compare-and-set (with an audit row in the same transaction), and reports.
 */
export async function runReconciliation(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const started = deps.now()
  const since = options.since === undefined ? started - DEFAULT_RECONCILE_WINDOW_MS : toTime(options.since)
  const limit = Math.max(1, Math.min(MAX_RECONCILE_LIMIT, Math.floor(options.limit ?? DEFAULT_RECONCILE_LIMIT)))
  const trigger = options.trigger ?? 'manual'
  const runId = await deps.store.startReconcileRun(trigger, started)
  // One more than asked, to know whether the window holds more.
  const orders = options.newestFirst
    ? await deps.store.ordersNewestFirst(since, options.before, limit + 1)
    : await deps.store.ordersSince(since, limit + 1)
  const batch = orders.slice(0, limit)
  const next = orders[limit]
  const last = batch[batch.length - 1]
  const report: ReconcileReport = {
    runId,
    trigger,
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    since: new Date(since).toISOString(),
    limit,
    checked: 0,
    repaired: [],
    needsHuman: [],
    errors: [],
    skipped: [],
    truncated: next !== undefined,
    ...(next && !options.newestFirst ? { nextSince: new Date(next.createdAt).toISOString() } : {}),
    ...(next && options.newestFirst && last
      ? { nextBefore: { createdAt: last.createdAt, orderId: last.orderId } }
      : {}),
  }
  for (const order of batch) {
    let lookup: TradeLookup
    try {
      lookup = await deps.queryTrade(order)
    } catch (error) {
      const entry: ReconcileErrorEntry =
        error instanceof GatewayError
          ? { orderId: order.orderId, code: error.code, message: error.message, retryable: error.retryable }
          : { orderId: order.orderId, code: 'INTERNAL', message: String(error), retryable: false }
      deps.log.warn('reconcile.query-failed', { runId, ...entry })
      report.errors.push(entry)
      continue
    }
    report.checked++
    const verdict = judge(order, lookup, deps.sellerId)
    const trade = lookup.found ? lookup.trade : undefined
    if (verdict.kind === 'agree') {
      // Not a disagreement: the newest gateway status, only while the state is still the one judged.
      if (verdict.sync) await deps.store.transition(order.orderId, [order.state], verdict.sync, deps.now())
      continue
    }
    if (verdict.kind === 'flag') {
      const entry: NeedsHumanEntry = {
        orderId: order.orderId,
        reason: verdict.reason,
        message: verdict.message,
        localState: order.state,
        localAmount: order.amount,
        tradeStatus: trade?.status,
        gatewayAmount: trade?.amount,
        tradeNo: trade?.tradeNo,
      }
      await deps.store.audit(
        order.orderId,
        { runId, action: `FLAG_${verdict.reason}`, toState: undefined, detail: { ...entry, trade: trade?.raw } },
        deps.now(),
      )
      deps.log.error('reconcile.needs-human', { runId, orderId: order.orderId, reason: verdict.reason })
      report.needsHuman.push(entry)
      continue
    }
    const to = verdict.patch.state ?? order.state
    const { applied, fromState } = await deps.store.repair(
      order.orderId,
      verdict.from,
      verdict.patch,
      { runId, action: verdict.action, toState: to, detail: { trade: trade?.raw ?? {} } },
      deps.now(),
    )
    if (!applied) {
      deps.log.info('reconcile.already-changed', { runId, orderId: order.orderId, state: fromState })
      report.skipped.push({ orderId: order.orderId, action: verdict.action, state: fromState })
      continue
    }
    deps.log.warn('reconcile.repaired', { runId, orderId: order.orderId, action: verdict.action, from: fromState })
    report.repaired.push({
      orderId: order.orderId,
      action: verdict.action,
      from: fromState ?? order.state,
      to,
      tradeStatus: verdict.patch.tradeStatus,
      tradeNo: verdict.patch.tradeNo,
    })
    if (verdict.action === 'MARK_PAID') {
      const latest = await deps.store.get(order.orderId)
      if (latest) await deps.paid(latest)
    }
  }
  const finished = deps.now()
  report.finishedAt = new Date(finished).toISOString()
  await deps.store.finishReconcileRun(runId, report, finished)
  deps.log.info('reconcile.done', {
    runId,
    checked: report.checked,
    repaired: report.repaired.length,
    needsHuman: report.needsHuman.length,
    errors: report.errors.length,
  })
  return report
}
