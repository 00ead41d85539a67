import { normalizeAmount } from '@alipay-payment-handler/protocol'
import {
  migratePgDatabase,
  openPgStorePool,
  pgMigrationStatus,
  withPgTransaction,
  type PgMigration,
  type PgQueryable,
  type PgSchema,
  type PgStoreOptions,
} from '@alipay-payment-handler/server-runtime'
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
import {
  CLAIM_PASS_SQL,
  FINISH_PASS_SQL,
  RELEASE_LEASE_SQL,
  SAVE_CURSOR_SQL,
  SCHEDULE_TABLE_SQL,
  dueBefore,
  toReconcilePass,
  type AuditEntry,
  type Order,
  type OrderPatch,
  type OrderState,
  type OrderStore,
} from './order-store.js'

/** The component name of these tables in `schema_migrations`. */
const COMPONENT = 'merchant'

/**
 * The SQLite schema's tables on PostgreSQL. Money: `amount` keeps the text as given; the refund
 * arithmetic runs on NUMERIC(16,2) columns, exact decimals, never floats. Times are epoch ms.
 */
export const ORDER_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        amount TEXT NOT NULL,
        amount_value NUMERIC(16, 2) NOT NULL CHECK (amount_value > 0),
        state TEXT NOT NULL CHECK (state IN ('wait', 'success', 'close', 'timeout')),
        trade_status TEXT,
        trade_no TEXT,
        pay_time TEXT,
        pay_channel TEXT,
        refunded NUMERIC(16, 2) NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount_value),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX orders_created ON orders (created_at, order_id);
      CREATE TABLE order_notifies (
        id BIGSERIAL PRIMARY KEY,
        notify_id TEXT NOT NULL UNIQUE,
        order_id TEXT,
        notify_type TEXT NOT NULL,
        trade_status TEXT,
        outcome TEXT NOT NULL,
        params_json TEXT NOT NULL,
        received_at BIGINT NOT NULL
      );
      CREATE INDEX order_notifies_order ON order_notifies (order_id);
      CREATE TABLE refunds (
        batch_no TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders (order_id),
        amount TEXT NOT NULL,
        amount_value NUMERIC(16, 2) NOT NULL,
        reason TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'success', 'failed')),
        gateway_code TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX refunds_order ON refunds (order_id);
      CREATE TABLE reconcile_runs (
        id BIGSERIAL PRIMARY KEY,
        trigger TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        finished_at BIGINT,
        report_json TEXT
      );
      CREATE TABLE order_audit (
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT REFERENCES reconcile_runs (id),
        order_id TEXT NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT,
        applied BOOLEAN NOT NULL,
        detail_json TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX order_audit_order ON order_audit (order_id);
      ${SCHEDULE_TABLE_SQL}
    `,
  },
]

interface PgOrderRow extends OrderColumns {
  refunded: string
}

const toOrder = (row: PgOrderRow): Order => orderFromColumns(row, normalizeAmount(row.refunded))

const UNIQUE_VIOLATION = '23505'
const isUniqueViolation = (error: unknown, constraint: string) =>
  (error as { code?: string; constraint?: string }).code === UNIQUE_VIOLATION &&
  (error as { constraint?: string }).constraint === constraint

const SCHEMA: PgSchema = { component: COMPONENT, migrations: ORDER_PG_MIGRATIONS }

/** Applies missing merchant migrations and returns how many there were. */
export function migrateOrderStore(url: string): Promise<number> {
  return migratePgDatabase(url, SCHEMA)
}

export type PgOrderStoreOptions = PgStoreOptions

/**
 * The order store on PostgreSQL, for several merchant processes on one database: the same
 * contract and the same compare-and-set transitions as the SQLite store, now across processes.
 */
export async function openPgOrderStore(url: string, options: PgOrderStoreOptions = {}): Promise<OrderStore> {
  const pool = await openPgStorePool(url, SCHEMA, { applicationName: 'alipay-merchant', ...options })
  let closed = false

  const transitionOn = async (
    db: PgQueryable,
    orderId: string,
    from: readonly OrderState[],
    patch: OrderPatch,
    now: number,
  ): Promise<boolean> => {
    const values: unknown[] = [orderId, [...from], now]
    const sets = ['updated_at = $3']
    const columns: [keyof OrderPatch, string][] = [
      ['state', 'state'],
      ['tradeStatus', 'trade_status'],
      ['tradeNo', 'trade_no'],
      ['payTime', 'pay_time'],
      ['payChannel', 'pay_channel'],
    ]
    for (const [key, column] of columns) {
      if (patch[key] === undefined) continue
      values.push(patch[key])
      sets.push(`${column} = $${values.length}`)
    }
    const result = await db.query(
      `UPDATE orders SET ${sets.join(', ')} WHERE order_id = $1 AND state = ANY($2::text[])`,
      values,
    )
    return result.rowCount === 1
  }
  const auditOn = (
    db: PgQueryable,
    orderId: string,
    audit: AuditEntry,
    fromState: OrderState | undefined,
    applied: boolean,
    now: number,
  ) =>
    db.query(
      `INSERT INTO order_audit (run_id, order_id, action, from_state, to_state, applied, detail_json, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        audit.runId ?? null,
        orderId,
        audit.action,
        fromState ?? null,
        audit.toState ?? null,
        applied,
        JSON.stringify(audit.detail),
        now,
      ],
    )
  /** The state as of now, locking the row until the transaction ends (repairs and audits). */
  const lockedState = async (db: PgQueryable, orderId: string) =>
    (await db.query<{ state: OrderState }>('SELECT state FROM orders WHERE order_id = $1 FOR UPDATE', [orderId]))
      .rows[0]?.state

  return {
    migrationStatus: () => pgMigrationStatus(pool, SCHEMA.component, SCHEMA.migrations),
    async insert(order) {
      try {
        await pool.query(
          `INSERT INTO orders (order_id, subject, amount, amount_value, state, created_at, updated_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
          [
            order.orderId,
            order.subject,
            order.amount,
            normalizeAmount(order.amount),
            order.state,
            order.createdAt,
            order.expiresAt,
          ],
        )
      } catch (error) {
        if (isUniqueViolation(error, 'orders_pkey')) {
          throw new OrderError('ORDER_EXISTS', `order ${order.orderId} already exists`, { orderId: order.orderId })
        }
        throw error
      }
    },
    async get(orderId) {
      const row = (await pool.query<PgOrderRow>('SELECT * FROM orders WHERE order_id = $1', [orderId])).rows[0]
      return row ? toOrder(row) : undefined
    },
    transition: (orderId, from, patch, now) => transitionOn(pool, orderId, from, patch, now),
    async applyNotify(record, now, transition) {
      return withPgTransaction(pool, async (client) => {
        const inserted = await client.query(
          `INSERT INTO order_notifies (notify_id, order_id, notify_type, trade_status, outcome, params_json, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (notify_id) DO NOTHING`,
          [
            record.notifyId,
            record.orderId ?? null,
            record.notifyType,
            record.tradeStatus ?? null,
            record.outcome,
            JSON.stringify(record.params),
            now,
          ],
        )
        if (inserted.rowCount === 0) return { duplicate: true, transitioned: false }
        const transitioned =
          transition && record.orderId
            ? await transitionOn(client, record.orderId, transition.from, transition.patch, now)
            : false
        if (transition && !transitioned && record.outcomeIfUnchanged) {
          await client.query('UPDATE order_notifies SET outcome = $1 WHERE notify_id = $2', [
            record.outcomeIfUnchanged,
            record.notifyId,
          ])
        }
        return { duplicate: false, transitioned }
      })
    },
    async hasNotify(notifyId) {
      return (await pool.query('SELECT 1 FROM order_notifies WHERE notify_id = $1', [notifyId])).rowCount === 1
    },
    async notifies(orderId) {
      const result = await pool.query<NotifyRow>('SELECT * FROM order_notifies WHERE order_id = $1 ORDER BY id', [
        orderId,
      ])
      return result.rows.map(toNotifyRecord)
    },
    async reserveRefund(refund, now) {
      const amount = normalizeAmount(refund.amount)
      return withPgTransaction(pool, async (client) => {
        // One UPDATE: a concurrent reservation of the same order waits for this row's lock, then
        // PostgreSQL re-checks the WHERE on the updated row, so the sum never passes the amount paid.
        const reserved = await client.query(
          `UPDATE orders SET refunded = refunded + $1::numeric, updated_at = $2
           WHERE order_id = $3 AND state IN ('success', 'close') AND trade_no IS NOT NULL
             AND refunded + $1::numeric <= amount_value`,
          [amount, now, refund.orderId],
        )
        if (reserved.rowCount !== 1) return false
        try {
          await client.query(
            `INSERT INTO refunds (batch_no, order_id, amount, amount_value, reason, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)`,
            [refund.batchNo, refund.orderId, refund.amount, amount, refund.reason, now],
          )
        } catch (error) {
          // Throwing rolls the reservation back with the transaction.
          if (isUniqueViolation(error, 'refunds_pkey')) {
            throw new OrderError('REFUND_CONFLICT', `refund number ${refund.batchNo} is already used`, {
              refundNo: refund.batchNo,
            })
          }
          throw error
        }
        return true
      })
    },
    async settleRefund(batchNo, state, gatewayCode, now, audit) {
      await withPgTransaction(pool, async (client) => {
        const row = (
          await client.query<{ order_id: string; amount_value: string; state: string }>(
            'SELECT order_id, amount_value, state FROM refunds WHERE batch_no = $1 FOR UPDATE',
            [batchNo],
          )
        ).rows[0]
        if (!row) return
        const settled = row.state === 'failed' || row.state === 'success'
        if (audit) await auditOn(client, row.order_id, audit, await lockedState(client, row.order_id), !settled, now)
        if (settled) return
        await client.query('UPDATE refunds SET state = $1, gateway_code = $2, updated_at = $3 WHERE batch_no = $4', [
          state,
          gatewayCode ?? null,
          now,
          batchNo,
        ])
        if (state === 'failed') {
          await client.query(
            'UPDATE orders SET refunded = refunded - $1::numeric, updated_at = $2 WHERE order_id = $3',
            [row.amount_value, now, row.order_id],
          )
        }
      })
    },
    async refunds(orderId) {
      const result = await pool.query<RefundRow>(
        'SELECT * FROM refunds WHERE order_id = $1 ORDER BY created_at, batch_no',
        [orderId],
      )
      return result.rows.map(toRefund)
    },
    async repair(orderId, from, patch, audit, now) {
      return withPgTransaction(pool, async (client) => {
        const fromState = await lockedState(client, orderId)
        const applied = await transitionOn(client, orderId, from, patch, now)
        await auditOn(client, orderId, audit, fromState, applied, now)
        return { applied, fromState }
      })
    },
    async audit(orderId, audit, now) {
      await withPgTransaction(pool, async (client) => {
        await auditOn(client, orderId, audit, await lockedState(client, orderId), false, now)
      })
    },
    async auditTrail(orderId) {
      const result = await pool.query<AuditTableRow>('SELECT * FROM order_audit WHERE order_id = $1 ORDER BY id', [
        orderId,
      ])
      return result.rows.map(toAuditRow)
    },
    async ordersSince(since, limit) {
      const result = await pool.query<PgOrderRow>(
        'SELECT * FROM orders WHERE created_at >= $1 ORDER BY created_at, order_id LIMIT $2',
        [since, limit],
      )
      return result.rows.map(toOrder)
    },
    async ordersNewestFirst(since, before, limit) {
      const result = before
        ? await pool.query<PgOrderRow>(
            `SELECT * FROM orders WHERE created_at >= $1 AND (created_at, order_id) < ($2, $3)
             ORDER BY created_at DESC, order_id DESC LIMIT $4`,
            [since, before.createdAt, before.orderId, limit],
          )
        : await pool.query<PgOrderRow>(
            'SELECT * FROM orders WHERE created_at >= $1 ORDER BY created_at DESC, order_id DESC LIMIT $2',
            [since, limit],
          )
      return result.rows.map(toOrder)
    },
    async claimReconcilePass(owner, now, { leaseMs, intervalMs, windowMs }) {
      const row = (
        await pool.query<Parameters<typeof toReconcilePass>[0]>(CLAIM_PASS_SQL, [
          owner,
          now,
          now + leaseMs,
          dueBefore(now, intervalMs),
          now - windowMs,
        ])
      ).rows[0]
      return row ? toReconcilePass(row) : undefined
    },
    async saveReconcileCursor(owner, cursor, now, leaseMs) {
      const result = await pool.query(SAVE_CURSOR_SQL, [owner, cursor.createdAt, cursor.orderId, now + leaseMs])
      return result.rowCount === 1
    },
    async finishReconcilePass(owner, now) {
      await pool.query(FINISH_PASS_SQL, [owner, now])
    },
    async releaseReconcileLease(owner) {
      await pool.query(RELEASE_LEASE_SQL, [owner])
    },
    async startReconcileRun(trigger, now) {
      const result = await pool.query<{ id: number }>(
        'INSERT INTO reconcile_runs (trigger, started_at) VALUES ($1, $2) RETURNING id',
        [trigger, now],
      )
      return Number(result.rows[0]!.id)
    },
    async finishReconcileRun(runId, report, now) {
      await pool.query('UPDATE reconcile_runs SET finished_at = $1, report_json = $2 WHERE id = $3', [
        now,
        JSON.stringify(report),
        runId,
      ])
    },
    async latestReconcileReport() {
      const row = (
        await pool.query<{ report_json: string }>(
          'SELECT report_json FROM reconcile_runs WHERE report_json IS NOT NULL ORDER BY id DESC LIMIT 1',
        )
      ).rows[0]
      return row ? (JSON.parse(row.report_json) as unknown) : undefined
    },
    async close() {
      if (closed) return
      closed = true
      await pool.end()
    },
  }
}
