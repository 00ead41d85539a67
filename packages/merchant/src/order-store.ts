import { fromFen, toFen } from '@alipay-payment-handler/protocol'
import { openDatabase, type Db, type Migration } from '@alipay-payment-handler/server-runtime'
import { OrderError } from './order-errors.js'
import {
  orderFromColumns,
  toAuditRow,
  toNotifyRecord,
  toRefund,
  type AuditTableRow,
  type NotifyRow,
  type OrderColumns,
  type RefundRow,
} from './order-rows.js'

/** Local order states (the order-service API's PayStatusEnum; openapi-protocol §8.1 maps them). */
export type OrderState = 'wait' | 'success' | 'close' | 'timeout'

/** One merchant order. Amounts are canonical decimal strings ("99.90"). */
export interface Order {
  orderId: string
  subject: string
  amount: string
  state: OrderState
  /** The gateway's trade status as last learned (WAIT_BUYER_PAY, TRADE_SUCCESS, …). */
  tradeStatus: string | undefined
  tradeNo: string | undefined
  /** gmt_payment as the gateway wrote it (Beijing time). */
  payTime: string | undefined
  refunded: string
  /** How the trade was opened (`precreate`, `page`, `wap`, …): decides how it is cancelled. */
  payChannel?: string | undefined
  createdAt: number
  updatedAt: number
  expiresAt: number
}

/** Fields a change may set besides the state. */
export interface OrderPatch {
  state?: OrderState
  tradeStatus?: string | undefined
  tradeNo?: string | undefined
  payTime?: string | undefined
  payChannel?: string | undefined
}

/** A received notify, as recorded (once per notify_id). */
export interface OrderNotifyRecord {
  notifyId: string
  orderId: string | undefined
  notifyType: string
  tradeStatus: string | undefined
  /** paid, closed, updated, rejected:<code>, refund. */
  outcome: string
  /** Recorded instead of `outcome` when the accompanying transition did not apply (already paid). */
  outcomeIfUnchanged?: string
  params: Record<string, string>
}

/** A refund batch of one order. */
export interface Refund {
  batchNo: string
  orderId: string
  amount: string
  reason: string
  state: 'pending' | 'submitted' | 'success' | 'failed'
  gatewayCode: string | undefined
}

/**
 * The order service's storage. Async, so a PostgreSQL store serving several processes can
 * implement it; every method that changes state is one transaction.
 */
export interface OrderStore {
  /** Throws ORDER_EXISTS when the id is taken. */
  insert(order: Order): Promise<void>
  get(orderId: string): Promise<Order | undefined>
  /** Compare-and-set: applies `patch` only when the state is one of `from`. */
  transition(orderId: string, from: readonly OrderState[], patch: OrderPatch, now: number): Promise<boolean>
  /**
   * Records a notify and, in the same transaction, applies `transition` when given. Returns
   * `duplicate` when this notify_id was seen before (nothing changes then).
   */
  applyNotify(
    record: OrderNotifyRecord,
    now: number,
    transition?: { from: readonly OrderState[]; patch: OrderPatch },
  ): Promise<{ duplicate: boolean; transitioned: boolean }>
  hasNotify(notifyId: string): Promise<boolean>
  notifies(orderId: string): Promise<OrderNotifyRecord[]>
  /**
   * Reserves `amount` of a paid order for a refund batch: fails (false) when the order is neither
   * `success` nor a cancelled order with a trade (a late payment), or the refunds would exceed the
   * amount paid.
   */
  reserveRefund(refund: Omit<Refund, 'state' | 'gatewayCode'>, now: number): Promise<boolean>
  /**
   * Settles a batch; a failed one gives its reservation back. With `audit` (a reconciliation's
   * MARK_REFUNDED), its audit row on the refund's order is written in the same transaction, so
   * the settlement never happens unaudited; `applied` says whether it changed the batch.
   */
  settleRefund(
    batchNo: string,
    state: Refund['state'],
    gatewayCode: string | undefined,
    now: number,
    audit?: AuditEntry,
  ): Promise<void>
  refunds(orderId: string): Promise<Refund[]>
  /**
   * A reconciliation repair: the same compare-and-set as `transition`, plus its audit row, in one
   * transaction. `applied` is false when the order had already moved (a notify got there first).
   */
  repair(
    orderId: string,
    from: readonly OrderState[],
    patch: OrderPatch,
    audit: AuditEntry,
    now: number,
  ): Promise<{ applied: boolean; fromState: OrderState | undefined }>
  /** Records a finding that changes nothing (a flag for a human). */
  audit(orderId: string, audit: AuditEntry, now: number): Promise<void>
  /** The audit rows of one order, oldest first. */
  auditTrail(orderId: string): Promise<AuditRow[]>
  /** Orders created at or after `since`, oldest first, at most `limit`. */
  ordersSince(since: number, limit: number): Promise<Order[]>
  /**
   * Orders created at or after `since`, newest first, strictly older than `before` (the last
   * order of the previous page) when given, at most `limit`.
   */
  ordersNewestFirst(since: number, before: OrderCursor | undefined, limit: number): Promise<Order[]>
  /**
   * Takes the scheduled reconciliation's lease for `owner` until `now + leaseMs`, when no other
   * process holds it and a pass is in progress (its cursor is returned) or due (the last one
   * finished `intervalMs` ago or more; a new pass covers `now - windowMs` onwards). Undefined when
   * another process holds it or nothing is due: the schedule then runs once across every process.
   */
  claimReconcilePass(
    owner: string,
    now: number,
    options: { leaseMs: number; intervalMs: number; windowMs: number },
  ): Promise<ReconcilePass | undefined>
  /** Saves the pass's cursor and extends the lease; false when `owner` lost the lease. */
  saveReconcileCursor(owner: string, cursor: OrderCursor, now: number, leaseMs: number): Promise<boolean>
  /** Ends the pass (cursor cleared, finish time kept) and releases the lease. */
  finishReconcilePass(owner: string, now: number): Promise<void>
  /** Releases the lease but keeps the cursor: the next process resumes the pass there. */
  releaseReconcileLease(owner: string): Promise<void>
  /** Opens a reconciliation run; its id goes on every audit row of the run. */
  startReconcileRun(trigger: string, now: number): Promise<number>
  /** Stores the finished run's report (JSON-serialisable). */
  finishReconcileRun(runId: number, report: unknown, now: number): Promise<void>
  /** The report of the latest finished run, if any. */
  latestReconcileReport(): Promise<unknown>
  /** The applied schema version and how many migrations are missing (for `/readyz`). */
  migrationStatus(): Promise<{ version: number; pending: number }>
  close(): Promise<void>
}

/** A position in the newest-first order list: the last order of a page. */
export interface OrderCursor {
  createdAt: number
  orderId: string
}

/** The scheduled pass a process may go on with (see `OrderStore.claimReconcilePass`). */
export interface ReconcilePass {
  /** The pass covers orders created at or after this instant (fixed when the pass began). */
  since: number
  /** Where the pass stopped (undefined: at the newest order). */
  cursor: OrderCursor | undefined
}

/** What a reconciliation did or found about one order. */
export interface AuditEntry {
  runId: number | undefined
  /** MARK_PAID, MARK_CLOSED, or FLAG_<reason>. */
  action: string
  toState: OrderState | undefined
  detail: Record<string, unknown>
}

/** An audit row as stored. */
export interface AuditRow extends AuditEntry {
  orderId: string
  fromState: OrderState | undefined
  applied: boolean
  at: number
}

/**
 * The scheduled reconciliation's one row: its lease, the pass in progress and its cursor. The same
 * SQL on SQLite and PostgreSQL (BIGINT is an INTEGER to SQLite).
 */
export const SCHEDULE_TABLE_SQL = `
  CREATE TABLE reconcile_schedule (
    name TEXT PRIMARY KEY,
    lease_owner TEXT,
    lease_until BIGINT,
    pass_since BIGINT,
    cursor_created_at BIGINT,
    cursor_order_id TEXT,
    last_finished_at BIGINT
  );
  INSERT INTO reconcile_schedule (name) VALUES ('schedule');
`

/** Claims the lease (see `claimReconcilePass`): $1 owner, $2 now, $3 lease end, $4 due-before, $5 new pass's since. */
export const CLAIM_PASS_SQL = `
  UPDATE reconcile_schedule SET lease_owner = $1, lease_until = $3,
    pass_since = COALESCE(pass_since, $5)
  WHERE name = 'schedule' AND (lease_owner IS NULL OR lease_until <= $2 OR lease_owner = $1)
    AND (pass_since IS NOT NULL OR last_finished_at IS NULL OR last_finished_at <= $4)
  RETURNING pass_since, cursor_created_at, cursor_order_id`

export const SAVE_CURSOR_SQL = `
  UPDATE reconcile_schedule SET cursor_created_at = $2, cursor_order_id = $3, lease_until = $4
  WHERE name = 'schedule' AND lease_owner = $1`

export const FINISH_PASS_SQL = `
  UPDATE reconcile_schedule SET pass_since = NULL, cursor_created_at = NULL, cursor_order_id = NULL,
    last_finished_at = $2, lease_owner = NULL, lease_until = NULL
  WHERE name = 'schedule' AND lease_owner = $1`

export const RELEASE_LEASE_SQL = `
  UPDATE reconcile_schedule SET lease_owner = NULL, lease_until = NULL WHERE name = 'schedule' AND lease_owner = $1`

/** The row `CLAIM_PASS_SQL` returns, as a pass. */
export function toReconcilePass(row: {
  pass_since: number
  cursor_created_at: number | null
  cursor_order_id: string | null
}): ReconcilePass {
  return {
    since: Number(row.pass_since),
    cursor:
      row.cursor_created_at !== null && row.cursor_order_id !== null
        ? { createdAt: Number(row.cursor_created_at), orderId: row.cursor_order_id }
        : undefined,
  }
}

/** The lease is taken a little before a full interval passed, so a loop's own timer never just misses it. */
export const dueBefore = (now: number, intervalMs: number) => now - intervalMs + Math.min(intervalMs / 10, 1_000)

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        amount TEXT NOT NULL,
        amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
        state TEXT NOT NULL CHECK (state IN ('wait', 'success', 'close', 'timeout')),
        trade_status TEXT,
        trade_no TEXT,
        pay_time TEXT,
        refunded_fen INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE order_notifies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        notify_id TEXT NOT NULL UNIQUE,
        order_id TEXT,
        notify_type TEXT NOT NULL,
        trade_status TEXT,
        outcome TEXT NOT NULL,
        params_json TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX order_notifies_order ON order_notifies (order_id);
      CREATE TABLE refunds (
        batch_no TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders (order_id),
        amount TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        reason TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'success', 'failed')),
        gateway_code TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX refunds_order ON refunds (order_id);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE INDEX orders_created ON orders (created_at);
      ALTER TABLE orders ADD COLUMN pay_channel TEXT;
      CREATE TABLE reconcile_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        trigger TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        report_json TEXT
      );
      CREATE TABLE order_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER REFERENCES reconcile_runs (id),
        order_id TEXT NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT,
        applied INTEGER NOT NULL CHECK (applied IN (0, 1)),
        detail_json TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX order_audit_order ON order_audit (order_id);
    `,
  },
  {
    version: 3,
    sql: SCHEDULE_TABLE_SQL,
  },
]

interface OrderRow extends OrderColumns {
  refunded_fen: number
}

// SQLite integers hold any amount up to 100000000.00 yuan exactly; the arithmetic stays in fen.
const fen = (amount: string) => Number(toFen(amount))
const yuan = (value: number) => fromFen(BigInt(value))

const toOrder = (row: OrderRow): Order => orderFromColumns(row, yuan(row.refunded_fen))

/** PostgreSQL's `$n` placeholders as SQLite named ones (`@p1`…), so both run one SQL text. */
const positional = (sql: string) => sql.replace(/\$(\d+)/g, '@p$1')
const args = (...values: unknown[]) => Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]))

function patchSql(patch: OrderPatch, params: Record<string, unknown>): string {
  const sets = ['updated_at = @now']
  const columns: [keyof OrderPatch, string][] = [
    ['state', 'state'],
    ['tradeStatus', 'trade_status'],
    ['tradeNo', 'trade_no'],
    ['payTime', 'pay_time'],
    ['payChannel', 'pay_channel'],
  ]
  for (const [key, column] of columns) {
    if (patch[key] === undefined) continue
    sets.push(`${column} = @${key}`)
    params[key] = patch[key]
  }
  return sets.join(', ')
}

/** The SQLite order store: one file, WAL, versioned migrations. */
export function openSqliteOrderStore(path: string): OrderStore {
  const db: Db = openDatabase(path, MIGRATIONS)
  const transitionSync = (orderId: string, from: readonly OrderState[], patch: OrderPatch, now: number) => {
    const params: Record<string, unknown> = { orderId, now }
    from.forEach((state, i) => (params[`from${i}`] = state))
    const sql = `UPDATE orders SET ${patchSql(patch, params)} WHERE order_id = @orderId AND state IN (${from
      .map((_, i) => `@from${i}`)
      .join(', ')})`
    return db.prepare(sql).run(params).changes === 1
  }
  const auditSync = (
    orderId: string,
    audit: AuditEntry,
    fromState: OrderState | undefined,
    applied: boolean,
    now: number,
  ) => {
    db.prepare(
      `INSERT INTO order_audit (run_id, order_id, action, from_state, to_state, applied, detail_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      audit.runId ?? null,
      orderId,
      audit.action,
      fromState ?? null,
      audit.toState ?? null,
      applied ? 1 : 0,
      JSON.stringify(audit.detail),
      now,
    )
  }
  const stateOf = (orderId: string) =>
    db.prepare<[string], { state: OrderState }>('SELECT state FROM orders WHERE order_id = ?').get(orderId)?.state
  return {
    async insert(order) {
      try {
        db.prepare(
          `INSERT INTO orders (order_id, subject, amount, amount_fen, state, created_at, updated_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          order.orderId,
          order.subject,
          order.amount,
          fen(order.amount),
          order.state,
          order.createdAt,
          order.createdAt,
          order.expiresAt,
        )
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new OrderError('ORDER_EXISTS', `order ${order.orderId} already exists`, { orderId: order.orderId })
        }
        throw error
      }
    },
    async get(orderId) {
      const row = db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE order_id = ?').get(orderId)
      return row ? toOrder(row) : undefined
    },
    async transition(orderId, from, patch, now) {
      return db.transaction(() => transitionSync(orderId, from, patch, now))()
    },
    async applyNotify(record, now, transition) {
      return db.transaction(() => {
        const inserted = db
          .prepare(
            `INSERT OR IGNORE INTO order_notifies (notify_id, order_id, notify_type, trade_status, outcome, params_json, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            record.notifyId,
            record.orderId ?? null,
            record.notifyType,
            record.tradeStatus ?? null,
            record.outcome,
            JSON.stringify(record.params),
            now,
          )
        if (inserted.changes === 0) return { duplicate: true, transitioned: false }
        const transitioned =
          transition && record.orderId ? transitionSync(record.orderId, transition.from, transition.patch, now) : false
        if (transition && !transitioned && record.outcomeIfUnchanged) {
          db.prepare('UPDATE order_notifies SET outcome = ? WHERE notify_id = ?').run(
            record.outcomeIfUnchanged,
            record.notifyId,
          )
        }
        return { duplicate: false, transitioned }
      })()
    },
    async hasNotify(notifyId) {
      return db.prepare('SELECT 1 FROM order_notifies WHERE notify_id = ?').get(notifyId) !== undefined
    },
    async notifies(orderId) {
      return db
        .prepare<[string], NotifyRow>('SELECT * FROM order_notifies WHERE order_id = ? ORDER BY id')
        .all(orderId)
        .map(toNotifyRecord)
    },
    async reserveRefund(refund, now) {
      return db.transaction(() => {
        const amountFen = fen(refund.amount)
        const reserved = db
          .prepare(
            `UPDATE orders SET refunded_fen = refunded_fen + @amountFen, updated_at = @now
             WHERE order_id = @orderId AND state IN ('success', 'close') AND trade_no IS NOT NULL
               AND refunded_fen + @amountFen <= amount_fen`,
          )
          .run({ amountFen, now, orderId: refund.orderId })
        if (reserved.changes !== 1) return false
        try {
          db.prepare(
            `INSERT INTO refunds (batch_no, order_id, amount, amount_fen, reason, state, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
          ).run(refund.batchNo, refund.orderId, refund.amount, amountFen, refund.reason, now, now)
        } catch (error) {
          // Throwing rolls the reservation back with the transaction.
          if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new OrderError('REFUND_CONFLICT', `refund number ${refund.batchNo} is already used`, {
              refundNo: refund.batchNo,
            })
          }
          throw error
        }
        return true
      })()
    },
    async settleRefund(batchNo, state, gatewayCode, now, audit) {
      db.transaction(() => {
        const row = db
          .prepare<[string], { order_id: string; amount_fen: number; state: string }>(
            'SELECT order_id, amount_fen, state FROM refunds WHERE batch_no = ?',
          )
          .get(batchNo)
        if (!row) return
        const settled = row.state === 'failed' || row.state === 'success'
        if (audit) auditSync(row.order_id, audit, stateOf(row.order_id), !settled, now)
        if (settled) return
        db.prepare('UPDATE refunds SET state = ?, gateway_code = ?, updated_at = ? WHERE batch_no = ?').run(
          state,
          gatewayCode ?? null,
          now,
          batchNo,
        )
        if (state === 'failed') {
          db.prepare('UPDATE orders SET refunded_fen = refunded_fen - ?, updated_at = ? WHERE order_id = ?').run(
            row.amount_fen,
            now,
            row.order_id,
          )
        }
      })()
    },
    async refunds(orderId) {
      return db
        .prepare<[string], RefundRow>('SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at, batch_no')
        .all(orderId)
        .map(toRefund)
    },
    async repair(orderId, from, patch, audit, now) {
      return db.transaction(() => {
        const fromState = stateOf(orderId)
        const applied = transitionSync(orderId, from, patch, now)
        auditSync(orderId, audit, fromState, applied, now)
        return { applied, fromState }
      })()
    },
    async audit(orderId, audit, now) {
      db.transaction(() => auditSync(orderId, audit, stateOf(orderId), false, now))()
    },
    async auditTrail(orderId) {
      return db
        .prepare<[string], AuditTableRow>('SELECT * FROM order_audit WHERE order_id = ? ORDER BY id')
        .all(orderId)
        .map(toAuditRow)
    },
    async ordersSince(since, limit) {
      return db
        .prepare<[number, number], OrderRow>(
          'SELECT * FROM orders WHERE created_at >= ? ORDER BY created_at, order_id LIMIT ?',
        )
        .all(since, limit)
        .map(toOrder)
    },
    async ordersNewestFirst(since, before, limit) {
      const rows = before
        ? db
            .prepare<[number, number, number, string, number], OrderRow>(
              `SELECT * FROM orders WHERE created_at >= ? AND (created_at < ? OR (created_at = ? AND order_id < ?))
               ORDER BY created_at DESC, order_id DESC LIMIT ?`,
            )
            .all(since, before.createdAt, before.createdAt, before.orderId, limit)
        : db
            .prepare<[number, number], OrderRow>(
              'SELECT * FROM orders WHERE created_at >= ? ORDER BY created_at DESC, order_id DESC LIMIT ?',
            )
            .all(since, limit)
      return rows.map(toOrder)
    },
    async claimReconcilePass(owner, now, { leaseMs, intervalMs, windowMs }) {
      const row = db
        .prepare(positional(CLAIM_PASS_SQL))
        .get(args(owner, now, now + leaseMs, dueBefore(now, intervalMs), now - windowMs)) as
        Parameters<typeof toReconcilePass>[0] | undefined
      return row ? toReconcilePass(row) : undefined
    },
    async saveReconcileCursor(owner, cursor, now, leaseMs) {
      return (
        db.prepare(positional(SAVE_CURSOR_SQL)).run(args(owner, cursor.createdAt, cursor.orderId, now + leaseMs))
          .changes === 1
      )
    },
    async finishReconcilePass(owner, now) {
      db.prepare(positional(FINISH_PASS_SQL)).run(args(owner, now))
    },
    async releaseReconcileLease(owner) {
      db.prepare(positional(RELEASE_LEASE_SQL)).run(args(owner))
    },
    async startReconcileRun(trigger, now) {
      return Number(
        db.prepare('INSERT INTO reconcile_runs (trigger, started_at) VALUES (?, ?)').run(trigger, now).lastInsertRowid,
      )
    },
    async finishReconcileRun(runId, report, now) {
      db.prepare('UPDATE reconcile_runs SET finished_at = ?, report_json = ? WHERE id = ?').run(
        now,
        JSON.stringify(report),
        runId,
      )
    },
    async latestReconcileReport() {
      const row = db
        .prepare<[], { report_json: string }>(
          'SELECT report_json FROM reconcile_runs WHERE report_json IS NOT NULL ORDER BY id DESC LIMIT 1',
        )
        .get()
      return row ? (JSON.parse(row.report_json) as unknown) : undefined
    },
    async migrationStatus() {
      const version = db.pragma('user_version', { simple: true }) as number
      return { version, pending: Math.max(0, MIGRATIONS.length - version) }
    },
    async close() {
      db.close()
    },
  }
}
