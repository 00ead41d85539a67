import { createRequire } from 'node:module'
import type pg from 'pg'

// `pg` (with pg-protocol, pg-types and their helpers) is required when the first pool opens, not
// when this package is imported: a SQLite deployment never opens one, and loading it took 20 ms
// of the payment app's start (bench `startup`, CPU profile of the bin).
let pgModule: typeof pg | undefined
const loadPg = (): typeof pg => (pgModule ??= createRequire(import.meta.url)('pg') as typeof pg)

/** A PostgreSQL connection pool (`pg`). */
export type PgPool = pg.Pool
/** One connection of a pool, or the pool itself: anything that answers `query`. */
export type PgQueryable = pg.Pool | pg.PoolClient

/** One PostgreSQL migration: applied once, in order, inside the migration transaction. */
export interface PgMigration {
  version: number
  sql: string
}

/** True for a `postgres://` or `postgresql://` URL: what selects the PostgreSQL stores. */
export function isPostgresUrl(value: string | undefined): value is string {
  return value !== undefined && /^postgres(ql)?:\/\//i.test(value)
}

// Per pool, not global: BIGINT columns hold epoch milliseconds, far below 2^53, so they come
// back as numbers; NUMERIC (money) stays a string, as every amount in the kit is.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === loadPg().types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : loadPg().types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
}

export interface PgPoolOptions {
  /** Connections in the pool (default 10). */
  max?: number
  /** Shown in pg_stat_activity, so an operator can tell the processes apart. */
  applicationName?: string
  /**
   * false: the pool's commits answer before their WAL is flushed (`synchronous_commit = off` for
   * its sessions). Only for writes whose loss in a server crash is harmless; never for ones the
   * caller acknowledges to someone as stored. Default true.
   */
  synchronousCommit?: boolean
}

/** A pool on `url`. Errors of idle connections (a server restart) are dropped, not thrown. */
export function openPgPool(url: string, options: PgPoolOptions = {}): PgPool {
  const pool = new (loadPg().Pool)({
    connectionString: url,
    max: options.max ?? 10,
    types,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    ...(options.synchronousCommit === false ? { options: '-c synchronous_commit=off' } : {}),
  })
  // An idle client that loses its server emits here; without a listener the process would exit.
  pool.on('error', () => {})
  return pool
}

/** Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withPgTransaction<T>(pool: PgPool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true
    })
    throw error
  } finally {
    client.release(broken)
  }
}

/** Key of the advisory lock that serialises migrations of every component on one database. */
const MIGRATION_LOCK_KEY = 7_351_019

/**
 * Applies `migrations` of `component` (e.g. `payment-app`) that `schema_migrations` does not list,
 * in one transaction under a transaction-scoped advisory lock, so processes starting together on
 * one database migrate it once and the others wait, then find nothing to do. Why this table and
 * not node-pg-migrate: docs/decisions/0004-postgresql-stores.md.
 */
export async function migratePg(pool: PgPool, component: string, migrations: readonly PgMigration[]): Promise<number> {
  return withPgTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component TEXT NOT NULL,
      version INTEGER NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version)
    )`)
    const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [
      component,
    ])
    const applied = new Set(done.rows.map((r) => r.version))
    const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => !applied.has(m.version))
    for (const migration of pending) {
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (component, version) VALUES ($1, $2)', [
        component,
        migration.version,
      ])
    }
    return pending.length
  })
}

/** One component's tables: its name in `schema_migrations` (e.g. `merchant`) and its migrations. */
export interface PgSchema {
  component: string
  migrations: readonly PgMigration[]
}

/** What a PostgreSQL store opens with: its pool, and whether it migrates first. */
export interface PgStoreOptions extends PgPoolOptions {
  /** Apply missing migrations on open (default true); false only checks, for `--migrate-only` set-ups. */
  migrate?: boolean
}

/** Applies `schema`'s missing migrations to the database at `url` (`--migrate-only`); answers how many. */
export async function migratePgDatabase(url: string, schema: PgSchema): Promise<number> {
  const pool = openPgPool(url, { max: 1 })
  try {
    return await migratePg(pool, schema.component, schema.migrations)
  } finally {
    await pool.end()
  }
}

/** A store's pool on `url`, `schema` migrated unless `options.migrate` is false; closed again when that fails. */
export async function openPgStorePool(url: string, schema: PgSchema, options: PgStoreOptions = {}): Promise<PgPool> {
  const { migrate, ...poolOptions } = options
  const pool = openPgPool(url, poolOptions)
  try {
    if (migrate !== false) await migratePg(pool, schema.component, schema.migrations)
  } catch (error) {
    await pool.end()
    throw error
  }
  return pool
}

/** The migration state of one component, for `/readyz`: latest applied version and whether any is missing. */
export async function pgMigrationStatus(
  pool: PgQueryable,
  component: string,
  migrations: readonly PgMigration[],
): Promise<{ version: number; pending: number }> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t")
  const rows = exists.rows[0]?.t
    ? (await pool.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [component]))
        .rows
    : []
  const applied = new Set(rows.map((r) => r.version))
  return {
    version: Math.max(0, ...applied),
    pending: migrations.filter((m) => !applied.has(m.version)).length,
  }
}

/** Runs writes in shared PostgreSQL transactions: see `createPgGroupCommit`. */
export interface PgGroupCommit {
  /** Runs `write` in the next group's transaction; resolves once that transaction committed. */
  run<T>(write: (client: pg.PoolClient) => Promise<T>): Promise<T>
  /** Resolves once every queued write committed (before closing the pool). */
  flush(): Promise<void>
}

/**
 * The PostgreSQL twin of `createGroupCommit`: writes queued while a group commits go into the next
 * group, one transaction (one WAL flush) for all of them, each in its own savepoint so one that
 * throws rolls back alone and rejects only its caller. Under a notify storm that is one commit per
 * round trip of the previous group instead of one per notify.
 */
export function createPgGroupCommit(pool: PgPool): PgGroupCommit {
  interface Queued {
    write: (client: pg.PoolClient) => Promise<unknown>
    resolve: (value: unknown) => void
    reject: (error: unknown) => void
  }
  let queue: Queued[] = []
  let running: Promise<void> | undefined
  const commitGroup = async (group: Queued[]): Promise<void> => {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = []
    try {
      await withPgTransaction(pool, async (client) => {
        for (const item of group) {
          await client.query('SAVEPOINT group_item')
          try {
            outcomes.push({ ok: true, value: await item.write(client) })
            await client.query('RELEASE SAVEPOINT group_item')
          } catch (error) {
            await client.query('ROLLBACK TO SAVEPOINT group_item')
            outcomes.push({ ok: false, error })
          }
        }
      })
    } catch (error) {
      for (const item of group) item.reject(error)
      return
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) item.resolve(outcome.value)
      else item.reject(outcome.error)
    })
  }
  const drain = async (): Promise<void> => {
    // Let the writes of this turn join the first group.
    await new Promise((resolve) => setImmediate(resolve))
    while (queue.length > 0) {
      const group = queue
      queue = []
      await commitGroup(group)
    }
    running = undefined
  }
  return {
    run<T>(write: (client: pg.PoolClient) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ write, resolve: resolve as (value: unknown) => void, reject })
        running ??= drain()
      })
    },
    async flush() {
      while (running) await running
    },
  }
}

/** Writes (or reads) many items in one statement: see `createPgBatch`. */
export interface PgBatch<I, O> {
  /** Queues `item` for the next batch; resolves with its outcome once that batch was written. */
  run(item: I): Promise<O>
  /** Resolves once every queued item was written (before closing the pool). */
  flush(): Promise<void>
}

export interface PgBatchOptions<I> {
  /**
   * Keys an item shares with others it must not be written together with (say, two notifies of one
   * session, which one statement could not apply in order): such an item waits for the next batch.
   */
  keysOf?: (item: I) => readonly (string | undefined)[]
}

/**
 * Like `createPgGroupCommit`, but for writes that one statement can make for many items at once:
 * the items queued during one turn, and those that come while a batch is written, go to `write`
 * together, which answers one outcome per item in order. A round trip per batch instead of several
 * per item: the relay on PostgreSQL wrote each notify with 5 statements in its group commit and 3
 * more for its delivered mark; batched, the stores bench's PostgreSQL run (10,000 notifies) went
 * from 24.5 s to 14.1 s next to SQLite's 12.4–13.0 s. Reads that many callers make at once (the
 * relay's arrival read) batch the same way. When a batch of several throws, each item is written
 * alone, so only a bad one fails.
 */
export function createPgBatch<I, O>(
  write: (items: readonly I[]) => Promise<readonly O[]>,
  options: PgBatchOptions<I> = {},
): PgBatch<I, O> {
  interface Queued {
    item: I
    resolve: (value: O) => void
    reject: (error: unknown) => void
  }
  let queue: Queued[] = []
  let running: Promise<void> | undefined
  const take = (): Queued[] => {
    if (!options.keysOf) {
      const batch = queue
      queue = []
      return batch
    }
    const seen = new Set<string>()
    const batch: Queued[] = []
    const later: Queued[] = []
    for (const queued of queue) {
      const keys = options.keysOf(queued.item).filter((key): key is string => key !== undefined)
      if (keys.some((key) => seen.has(key))) later.push(queued)
      else {
        for (const key of keys) seen.add(key)
        batch.push(queued)
      }
    }
    queue = later
    return batch
  }
  const writeBatch = async (batch: Queued[]): Promise<void> => {
    let outcomes: readonly O[]
    try {
      outcomes = await write(batch.map((queued) => queued.item))
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error)
      else for (const queued of batch) await writeBatch([queued])
      return
    }
    batch.forEach((queued, i) => queued.resolve(outcomes[i]!))
  }
  const drain = async (): Promise<void> => {
    // Let the items of this turn join the first batch.
    await new Promise((resolve) => setImmediate(resolve))
    while (queue.length > 0) await writeBatch(take())
    running = undefined
  }
  return {
    run(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        running ??= drain()
      })
    },
    async flush() {
      while (running) await running
    },
  }
}
