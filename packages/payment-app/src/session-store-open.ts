import { isPostgresUrl } from '@alipay-payment-handler/server-runtime'
import { openPgSessionStore, type PgSessionStoreOptions } from './session-store-pg.js'
import { openSessionStore, type SessionStore } from './session-store.js'

/**
 * The session store a setting names: a `postgres://` (or `postgresql://`) URL opens PostgreSQL,
 * migrated; anything else is a SQLite file path (`:memory:` too).
 */
export async function openSessionStoreAt(location: string, options: PgSessionStoreOptions = {}): Promise<SessionStore> {
  return isPostgresUrl(location) ? openPgSessionStore(location, options) : openSessionStore(location)
}
