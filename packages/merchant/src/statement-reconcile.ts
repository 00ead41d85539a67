import { GatewayError } from '@alipay-payment-handler/gateway-client'
import {
  ProtocolError,
  addAmounts,
  amountsEqual,
  formatBeijingTime,
  parseBillDate,
  parseBeijingTime,
  type BillPeriod,
  type StatementRow,
  type TradeDetailRow,
} from '@alipay-payment-handler/protocol'
import type { Logger } from '@alipay-payment-handler/server-runtime'
import type { NeedsHumanEntry, ReconcileReport, RepairedEntry } from './order-reconcile.js'
import type { Order, OrderStore } from './order-store.js'
import { payTransition } from './order-transitions.js'

/**
 * Reconciliation from the statement (openapi-protocol §15): where the per-order mode asks the
 * gateway about each local order, this one reads the day's statement and compares both ways,
 * so it also finds money the shop never heard of. It repairs what a notify would have repaired
 * (a payment or a refund the shop missed), through the store's compare-and-set with audit rows,
 * and flags the rest. The report has the per-order mode's shape plus a `statement` section.
 */

/**
 * What a statement run flags. A status that differs (paid at the gateway, unpaid here) is not
 * flagged but repaired as MARK_PAID, and a refund the shop still waits for as MARK_REFUNDED.
 */
export type StatementFinding = 'MISSING_LOCALLY' | 'MISSING_REMOTELY' | 'AMOUNT_MISMATCH' | 'REFUND_MISMATCH'

/** What the statement part of a report says. */
export interface StatementSummary {
  billDate: string
  billType: 'trade'
  /** Payment and refund lines read from the statement. */
  payments: number
  refunds: number
  /** Sum of the payment lines' receipts, and of the refund lines (as a positive amount). */
  paid: string
  refunded: string
}

/** A statement run's report: the per-order report's fields, and the statement read. */
export interface StatementReconcileReport extends ReconcileReport {
  mode: 'statement'
  statement: StatementSummary
}

/** What a statement run needs; the order service passes its own parts. */
export interface StatementReconcileDeps {
  store: OrderStore
  statementRows: (request: { billType: 'trade'; billDate: string }) => AsyncIterable<StatementRow>
  /** Called once for each order this run marked paid. */
  paid(order: Order): Promise<void>
  now: () => number
  log: Logger
}

export interface StatementReconcileOptions {
  /** The Beijing day `yyyy-MM-dd` (or month `yyyy-MM`) whose statement is read. */
  billDate: string
  trigger?: string
}

/** Paid orders are looked for among those created up to this long before the period starts. */
const ORDER_LOOKBACK_MS = 7 * 24 * 3600_000
const MAX_ORDERS = 50_000

/** `业务类型` of payment and refund lines; other lines are not the shop's trades. */
const PAYMENT = '交易'
const REFUND = '退款'

function inPeriod(order: Order, period: BillPeriod): boolean {
  const paidAt = order.payTime ? parseBeijingTime(order.payTime)?.getTime() : undefined
  const at = paidAt ?? order.updatedAt
  return at >= period.start && at < period.end
}

/**
 * One run over a statement: reads it to the end first (a broken download changes nothing),
 * then compares it with the orders and refunds of the store.
 */
export async function runStatementReconciliation(
  deps: StatementReconcileDeps,
  options: StatementReconcileOptions,
): Promise<StatementReconcileReport> {
  const period = parseBillDate(options.billDate)
  if (!period) throw new RangeError(`billDate must be yyyy-MM-dd or yyyy-MM, not ${options.billDate}`)
  const started = deps.now()
  const trigger = options.trigger ?? 'manual'
  const runId = await deps.store.startReconcileRun(`statement:${trigger}`, started)
  const report: StatementReconcileReport = {
    mode: 'statement',
    runId,
    trigger,
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    since: new Date(period.start).toISOString(),
    limit: MAX_ORDERS,
    checked: 0,
    repaired: [],
    needsHuman: [],
    errors: [],
    skipped: [],
    truncated: false,
    statement: { billDate: period.text, billType: 'trade', payments: 0, refunds: 0, paid: '0.00', refunded: '0.00' },
  }
  const finish = async () => {
    const finished = deps.now()
    report.finishedAt = new Date(finished).toISOString()
    await deps.store.finishReconcileRun(runId, report, finished)
    deps.log.info('reconcile.statement-done', {
      runId,
      billDate: period.text,
      checked: report.checked,
      repaired: report.repaired.length,
      needsHuman: report.needsHuman.length,
    })
    return report
  }

  const payments = new Map<string, TradeDetailRow>()
  const refunds = new Map<string, TradeDetailRow[]>()
  try {
    for await (const line of deps.statementRows({ billType: 'trade', billDate: period.text })) {
      if (line.kind !== 'trade-detail') continue
      const row = line.row
      if (row.businessType === PAYMENT) {
        payments.set(row.outTradeNo, row)
        report.statement.payments++
        report.statement.paid = addAmounts(report.statement.paid, row.receiptAmount)
      } else if (row.businessType === REFUND) {
        refunds.set(row.outTradeNo, [...(refunds.get(row.outTradeNo) ?? []), row])
        report.statement.refunds++
        report.statement.refunded = addAmounts(report.statement.refunded, row.receiptAmount.replace(/^-/, ''))
      }
    }
  } catch (error) {
    const entry =
      error instanceof GatewayError
        ? { orderId: '*', code: error.code, message: error.message, retryable: error.retryable }
        : error instanceof ProtocolError
          ? { orderId: '*', code: error.code, message: error.message, retryable: false }
          : { orderId: '*', code: 'INTERNAL', message: String(error), retryable: false }
    deps.log.warn('reconcile.statement-failed', { runId, ...entry })
    report.errors.push(entry)
    return finish()
  }

  const flag = async (
    order: Order | undefined,
    orderId: string,
    reason: StatementFinding,
    message: string,
    row?: TradeDetailRow,
  ) => {
    const entry: NeedsHumanEntry = {
      orderId,
      reason: reason as NeedsHumanEntry['reason'],
      message,
      localState: order?.state,
      localAmount: order?.amount,
      tradeStatus: row ? (row.businessType === PAYMENT ? 'TRADE_SUCCESS' : undefined) : undefined,
      gatewayAmount: row?.orderAmount,
      tradeNo: row?.tradeNo || order?.tradeNo,
    }
    await deps.store.audit(
      orderId,
      { runId, action: `FLAG_${reason}`, toState: undefined, detail: { ...entry, statementLine: row ?? null } },
      deps.now(),
    )
    deps.log.error('reconcile.needs-human', { runId, orderId, reason })
    report.needsHuman.push(entry)
  }

  // The statement's side: each payment line against its order.
  for (const [orderId, row] of payments) {
    report.checked++
    const order = await deps.store.get(orderId)
    if (!order) {
      await flag(
        undefined,
        orderId,
        'MISSING_LOCALLY',
        `the statement has a payment of ${row.orderAmount} for an unknown order`,
        row,
      )
      continue
    }
    if (!amountsEqual(row.orderAmount, order.amount)) {
      await flag(
        order,
        orderId,
        'AMOUNT_MISMATCH',
        `the statement says ${row.orderAmount}, the order ${order.amount}`,
        row,
      )
      continue
    }
    if (order.state === 'success') continue
    // Paid at the gateway, not here: the notify that would have said so was lost.
    const move = payTransition({
      outTradeNo: orderId,
      tradeNo: row.tradeNo,
      status: 'TRADE_SUCCESS',
      amount: row.orderAmount,
      sellerId: undefined,
      payTime: row.finishedAt,
      raw: {},
    })
    const { applied, fromState } = await deps.store.repair(
      orderId,
      move.from,
      move.patch,
      { runId, action: 'MARK_PAID', toState: 'success', detail: { statementLine: row } },
      deps.now(),
    )
    if (!applied) {
      report.skipped.push({ orderId, action: 'MARK_PAID', state: fromState })
      continue
    }
    const repaired: RepairedEntry = {
      orderId,
      action: 'MARK_PAID',
      from: fromState ?? order.state,
      to: 'success',
      tradeStatus: 'TRADE_SUCCESS',
      tradeNo: row.tradeNo,
    }
    deps.log.warn('reconcile.repaired', { runId, orderId, action: 'MARK_PAID', from: repaired.from, via: 'statement' })
    report.repaired.push(repaired)
    const latest = await deps.store.get(orderId)
    if (latest) await deps.paid(latest)
  }

  // Refund lines against the order's refunds, by refund number (out_request_no).
  for (const [orderId, rows] of refunds) {
    const order = await deps.store.get(orderId)
    if (!order) {
      const total = addAmounts(...rows.map((r) => r.receiptAmount.replace(/^-/, '')))
      await flag(
        undefined,
        orderId,
        'MISSING_LOCALLY',
        `the statement has refunds of ${total} for an unknown order`,
        rows[0],
      )
      continue
    }
    const local = await deps.store.refunds(orderId)
    for (const row of rows) {
      report.checked++
      const amount = row.receiptAmount.replace(/^-/, '')
      const refund = local.find((r) => r.batchNo === row.refundRequestNo)
      if (!refund || refund.state === 'failed' || !amountsEqual(refund.amount, amount)) {
        const what = !refund
          ? 'no such refund'
          : refund.state === 'failed'
            ? 'a failed refund'
            : `a refund of ${refund.amount}`
        await flag(
          order,
          orderId,
          'REFUND_MISMATCH',
          `the statement refunded ${amount} as ${row.refundRequestNo || '(no number)'}; locally ${what}`,
          row,
        )
        continue
      }
      if (refund.state === 'success') continue
      // Refunded at the gateway while the shop still waits: what the refund notify would have settled.
      // The settlement and its audit row in one transaction: a crash between them would settle it unaudited.
      await deps.store.settleRefund(refund.batchNo, 'success', undefined, deps.now(), {
        runId,
        action: 'MARK_REFUNDED',
        toState: undefined,
        detail: { refundNo: refund.batchNo, from: refund.state, statementLine: row },
      })
      deps.log.warn('reconcile.repaired', { runId, orderId, action: 'MARK_REFUNDED', refundNo: refund.batchNo })
      report.repaired.push({
        orderId,
        action: 'MARK_REFUNDED',
        from: order.state,
        to: order.state,
        tradeStatus: undefined,
        tradeNo: row.tradeNo,
        refundNo: refund.batchNo,
      })
    }
  }

  // The shop's side: orders paid in the period that the statement does not know.
  const orders = await deps.store.ordersSince(period.start - ORDER_LOOKBACK_MS, MAX_ORDERS + 1)
  report.truncated = orders.length > MAX_ORDERS
  for (const order of orders.slice(0, MAX_ORDERS)) {
    if (order.state !== 'success' || payments.has(order.orderId) || !inPeriod(order, period)) continue
    report.checked++
    await flag(
      order,
      order.orderId,
      'MISSING_REMOTELY',
      `the order is paid locally (${order.payTime ?? formatBeijingTime(new Date(order.updatedAt))}) but the statement has no payment for it`,
    )
  }
  return finish()
}
