import Database from 'better-sqlite3'
import { join } from 'node:path'

/** What a load run (tests/chaos, tests/scale) reads from the payment apps' and merchants' stores to count the outcome. */
export interface LoadStores {
  paidAtMerchant(): Promise<number>
  /** Relay deliveries still to be tried. */
  outboxBacklog(): Promise<number>
  /** Relay deliveries not delivered (pending or given up). */
  outboxUndelivered(): Promise<number>
  /** Relay delivery attempts beyond each job's first. */
  outboxRetries(): Promise<number>
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

/** A query runner on one SQLite file (opened per query: the processes own it, and a long-lived reader would pin old WAL pages). */
function sqliteRunner(file: string) {
  return async <Row>(sql: string) => {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    try {
      return db.prepare(sql).all() as Row[]
    } finally {
      db.close()
    }
  }
}

/** Where each kind keeps its data: a `postgres://` URL, or else the SQLite files in `dir`. */
export interface LoadStoreLocations {
  dir: string
  appDatabaseUrl?: string | undefined
  merchantDatabaseUrl?: string | undefined
}

export async function openLoadStores(where: LoadStoreLocations): Promise<LoadStores> {
  const pools: { end(): Promise<void> }[] = []
  const { default: pg } = await import('pg')
  const runner = (url: string | undefined, file: string) => {
    if (!url) return sqliteRunner(join(where.dir, file))
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    pools.push(pool)
    return async <Row>(sql: string) => (await pool.query(sql)).rows as Row[]
  }
  const runners = {
    app: runner(where.appDatabaseUrl, 'signing.db'),
    merchant: runner(where.merchantDatabaseUrl, 'merchant-orders.db'),
  }
  const query: Query = (kind, sql) => runners[kind](sql)
  const close = async () => {
    for (const pool of pools) await pool.end()
  }
  const count = async (kind: 'app' | 'merchant', sql: string) =>
    Number((await query<{ n: number | string }>(kind, sql))[0]?.n ?? 0)
  return {
    paidAtMerchant: () => count('merchant', `SELECT count(*) AS n FROM orders WHERE state = 'success'`),
    outboxBacklog: () => count('app', `SELECT count(*) AS n FROM outbox WHERE state = 'pending'`),
    outboxUndelivered: () => count('app', `SELECT count(*) AS n FROM outbox WHERE state != 'delivered'`),
    outboxRetries: () =>
      count('app', `SELECT coalesce(sum(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS n FROM outbox`),
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
          `SELECT order_id AS "orderId", count(*) AS n FROM order_audit WHERE to_state = 'success' AND applied = ${where.merchantDatabaseUrl ? 'true' : '1'} GROUP BY order_id`,
        ),
      )
      return { orders, paidByNotify, paidByRepair }
    },
    close,
  }
}
