import type { OrderStore } from '@alipay-payment-handler/merchant'
import { openDatabase, type Migration } from '@alipay-payment-handler/server-runtime'

/**
 * The shop's own list of the orders it created, newest first. The order service keeps each
 * order's state; the shop only needs to know which orders to show on its orders page.
 */
export interface ShopLedger {
  add(orderId: string, createdAt: number): void
  /** Order ids, newest first. */
  recent(limit: number): string[] | Promise<string[]>
  close(): void
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `CREATE TABLE shop_orders (order_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
          CREATE INDEX shop_orders_created ON shop_orders (created_at);`,
  },
]

/** Opens (or creates) the ledger in its own SQLite file; `:memory:` for tests. */
export function openShopLedger(path: string): ShopLedger {
  const db = openDatabase(path, MIGRATIONS)
  const insert = db.prepare<[string, number]>('INSERT OR IGNORE INTO shop_orders (order_id, created_at) VALUES (?, ?)')
  const recent = db.prepare<[number], { order_id: string }>(
    'SELECT order_id FROM shop_orders ORDER BY created_at DESC, rowid DESC LIMIT ?',
  )
  return {
    add: (orderId, createdAt) => void insert.run(orderId, createdAt),
    recent: (limit) => recent.all(limit).map((row) => row.order_id),
    close: () => db.close(),
  }
}

/**
 * The ledger as the order store's own newest orders: for a shop whose processes share one
 * PostgreSQL database, where a file of each process's own would list only that process's orders.
 */
export function storeShopLedger(store: Pick<OrderStore, 'ordersNewestFirst'>): ShopLedger {
  return {
    add: () => undefined,
    recent: async (limit) => (await store.ordersNewestFirst(0, undefined, limit)).map((order) => order.orderId),
    close: () => undefined,
  }
}
