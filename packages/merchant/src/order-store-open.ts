import { isPostgresUrl } from '@alipay-payment-handler/server-runtime'
import { openPgOrderStore, type PgOrderStoreOptions } from './order-store-pg.js'
import { openSqliteOrderStore, type OrderStore } from './order-store.js'

/**
 * The order store a setting names: a `postgres://` (or `postgresql://`) URL opens PostgreSQL,
 * migrated; anything else is a SQLite file path (`:memory:` too).
 */
export async function openOrderStoreAt(location: string, options: PgOrderStoreOptions = {}): Promise<OrderStore> {
  return isPostgresUrl(location) ? openPgOrderStore(location, options) : openSqliteOrderStore(location)
}
