import { isPostgresUrl } from '@alipay-payment-handler/server-runtime'
import type { PgSessionStoreOptions } from './session-store-pg.js'
import { openSessionStore, type SessionStore } from './session-store.js'

/**
 * The session store a setting names: a `postgres://` (or `postgresql://`) URL opens PostgreSQL,
 * migrated; anything else is a SQLite file path (`:memory:` too). The PostgreSQL store is imported
 * only then, so a SQLite deployment's start never loads it (bench `startup`).
 */
export async function openSessionStoreAt(location: string, options: PgSessionStoreOptions = {}): Promise<SessionStore> {
  if (!isPostgresUrl(location)) return openSessionStore(location)
  const { openPgSessionStore } = await import('./session-store-pg.js')
  return openPgSessionStore(location, options)
}
