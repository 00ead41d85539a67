import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

/** One migration: applied once, in order, inside a transaction. */
export interface Migration {
  version: number
  sql: string
}

/** A better-sqlite3 database handle. */
export type Db = Database.Database

/**
 * Opens (creating if needed) a SQLite file in WAL mode and applies `migrations` whose version is
 * above the file's `user_version`. `:memory:` works too.
 */
export function openDatabase(path: string, migrations: readonly Migration[]): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  // WAL lets readers (long polls, the outbox) run while one writer commits.
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  // Two processes on one file (a restart overlapping the old one) wait instead of failing.
  db.pragma('busy_timeout = 5000')
  memoizeStatements(db)
  migrate(db, migrations)
  return db
}

/** Applies pending migrations, each in its own transaction together with the version bump. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number
  const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => m.version > current)
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql)
      db.pragma(`user_version = ${migration.version}`)
    })()
  }
}

/**
 * Makes `db.prepare` compile each SQL text once. The stores prepare inside their methods, and
 * compiling a statement costs more than running it (it showed in create-session p99).
 */
function memoizeStatements(db: Db): void {
  const compile = db.prepare.bind(db)
  const statements = new Map<string, ReturnType<Db['prepare']>>()
  db.prepare = ((sql: string) => {
    let statement = statements.get(sql)
    if (!statement) {
      statement = compile(sql)
      statements.set(sql, statement)
    }
    return statement
  }) as Db['prepare']
}
