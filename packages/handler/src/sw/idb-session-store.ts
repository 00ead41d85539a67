import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { HandlerSession, SessionStore } from './session-store.js'

/** The worker's IndexedDB schema: one store of sessions keyed by paymentRequestId. */
interface HandlerDB extends DBSchema {
  sessions: { key: string; value: HandlerSession }
}

const DB_NAME = 'alipay-handler'
// Bump with a migration in `upgrade` when HandlerSession changes shape.
const DB_VERSION = 1

/**
 * The IndexedDB SessionStore. Opens the database lazily and once per worker start: a stopped
 * worker loses the connection with everything else, and the next call opens it again.
 */
export function createIdbSessionStore(name = DB_NAME): SessionStore {
  let db: Promise<IDBPDatabase<HandlerDB>> | undefined
  const open = () =>
    (db ??= openDB<HandlerDB>(name, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore('sessions', { keyPath: 'paymentRequestId' })
      },
    }))
  return {
    async get(id) {
      return (await open()).get('sessions', id)
    },
    async put(session) {
      await (await open()).put('sessions', session)
    },
    async delete(id) {
      await (await open()).delete('sessions', id)
    },
    async list() {
      return (await open()).getAll('sessions')
    },
  }
}
