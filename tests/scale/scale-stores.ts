import Database from 'better-sqlite3'
import { join } from 'node:path'

/** What the scale run reads from the payment apps' and merchants' stores to count the outcome. */
export interface ScaleStores {
  paidAtMerchant(): Promise<number>
  /** Relay deliveries still to be tried. */
  outboxBacklog(): Promise<number>
  /** Relay deliveries not delivered (pending or given up). */
  outboxUndelivered(): Promise<number>
  merchantOutcomes(): Promise<{
    orders: { orderId: string; state: string }[]
    /** Verified notifies that paid an order, per order. */
    paidByNotify: { orderId: string; n: number }[]
    /** Applied reconciliation repairs to `success` (a gateway query), per order. */
    paidByRepair: { orderId: string; n: number }[]
  }>
  close(): Promise<void>
}

/** One read-only query runner: on SQLite each kind has its file, on PostgreSQL they share a database. */
type Query = <Row>(kind: 'app' | 'merchant', sql: string) => Promise<Row[]>

function sqliteQuery(dir: string): Query {
  const files = { app: join(dir, 'signing.db'), merchant: join(dir, 'merchant-orders.db') }
  return async <Row>(kind: 'app' | 'merchant', sql: string) => {
    // Open per query: the processes own the files, and a long-lived reader would pin old WAL pages.
    const db = new Database(files[kind], {
      readonly: true,
      fileMustExist: true,
    })
    try {
      return db.prepare(sql).all() as Row[]
    } finally {
      db.close()
    }
  }
}

export async function openScaleStores(where: { dir: string; databaseUrl?: string | undefined }): Promise<ScaleStores> {
  let query: Query
  let close = async () => {}
  if (where.databaseUrl) {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: where.databaseUrl, max: 2 })
    query = async <Row>(_kind: 'app' | 'merchant', sql: string) => (await pool.query(sql)).rows as Row[]
    close = () => pool.end()
  } else {
    query = sqliteQuery(where.dir)
  }
  const count = async (kind: 'app' | 'merchant', sql: string) =>
    Number((await query<{ n: number | string }>(kind, sql))[0]?.n ?? 0)
  return {
    paidAtMerchant: () => count('merchant', `SELECT count(*) AS n FROM orders WHERE state = 'success'`),
    outboxBacklog: () => count('app', `SELECT count(*) AS n FROM outbox WHERE state = 'pending'`),
    outboxUndelivered: () => count('app', `SELECT count(*) AS n FROM outbox WHERE state != 'delivered'`),
    async merchantOutcomes() {
      const orders = await query<{ orderId: string; state: string }>(
        'merchant',
        `SELECT order_id AS "orderId", state FROM orders`,
      )
      const toCounts = (rows: { orderId: string; n: number | string }[]) =>
        rows.map((r) => ({ orderId: r.orderId, n: Number(r.n) }))
      const paidByNotify = toCounts(
        await query(
          'merchant',
          `SELECT order_id AS "orderId", count(*) AS n FROM order_notifies WHERE outcome = 'paid' GROUP BY order_id`,
        ),
      )
      // `applied`: an integer flag in SQLite, a boolean in PostgreSQL.
      const paidByRepair = toCounts(
        await query(
          'merchant',
          `SELECT order_id AS "orderId", count(*) AS n FROM order_audit WHERE to_state = 'success' AND applied = ${where.databaseUrl ? 'true' : '1'} GROUP BY order_id`,
        ),
      )
      return { orders, paidByNotify, paidByRepair }
    },
    close,
  }
}
