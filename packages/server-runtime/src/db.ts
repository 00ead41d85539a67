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

/** Runs writes in shared transactions: see `createGroupCommit`. */
export interface GroupCommit {
  /** Runs `write` in the next group's transaction; resolves once that transaction committed. */
  run<T>(write: () => T): Promise<T>
  /** Commits the waiting group now (before closing the database). */
  flush(): void
}

/**
 * Group commit: writes queued in one turn of the event loop share one transaction, committed
 * before any of their promises resolve. A storm of notifies then costs one commit per turn
 * instead of one per notify, and "stored before acknowledged" still holds for each. Every write
 * runs in its own savepoint, so one that throws rolls back alone and rejects only its caller.
 */
export function createGroupCommit(db: Db): GroupCommit {
  interface Queued {
    write: () => unknown
    resolve: (value: unknown) => void
    reject: (error: unknown) => void
  }
  type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }
  // Made once: better-sqlite3 builds several wrapper functions for each `db.transaction`, which per
  // write was 2 % of a notify's allocations in the relay bench. A transaction function called
  // inside a transaction runs as a savepoint.
  const inSavepoint = db.transaction((write: () => unknown) => write())
  const commitGroup = db.transaction((group: readonly Queued[], outcomes: Outcome[]) => {
    for (const item of group) {
      try {
        outcomes.push({ ok: true, value: inSavepoint(item.write) })
      } catch (error) {
        outcomes.push({ ok: false, error })
      }
    }
  })
  let queue: Queued[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    const group = queue
    queue = []
    if (group.length === 0) return
    const outcomes: Outcome[] = []
    try {
      commitGroup(group, outcomes)
    } catch (error) {
      // The commit itself failed: nothing of the group is stored.
      for (const item of group) item.reject(error)
      return
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) item.resolve(outcome.value)
      else item.reject(outcome.error)
    })
  }
  return {
    run<T>(write: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ write, resolve: resolve as (value: unknown) => void, reject })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    flush,
  }
}
