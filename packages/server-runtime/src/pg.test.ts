import { createTestDatabase, type TestDatabase } from '@alipay-payment-handler/testing/postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createPgBatch,
  createPgGroupCommit,
  isPostgresUrl,
  migratePg,
  migratePgDatabase,
  openPgPool,
  openPgStorePool,
  pgMigrationStatus,
  type PgPool,
} from './pg.js'

let database: TestDatabase
const pools: PgPool[] = []
const pool = () => {
  const created = openPgPool(database.url, { max: 3 })
  pools.push(created)
  return created
}
beforeAll(async () => {
  database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
})
afterAll(async () => {
  for (const p of pools) await p.end()
  await database.drop()
})

const MIGRATIONS = [
  { version: 1, sql: 'CREATE TABLE t (name TEXT PRIMARY KEY, amount NUMERIC(16, 2), at BIGINT)' },
  { version: 2, sql: 'ALTER TABLE t ADD COLUMN note TEXT' },
]

describe('PostgreSQL plumbing', () => {
  it('tells PostgreSQL URLs from file paths', () => {
    expect(isPostgresUrl('postgres://h/db')).toBe(true)
    expect(isPostgresUrl('postgresql://h/db')).toBe(true)
    expect(isPostgresUrl('.data/x.db')).toBe(false)
    expect(isPostgresUrl(undefined)).toBe(false)
  })

  it('migrates once when several processes start together, and reports the version', async () => {
    const starters = [pool(), pool(), pool()]
    expect(await pgMigrationStatus(starters[0]!, 'test', MIGRATIONS)).toEqual({ version: 0, pending: 2 })
    const applied = await Promise.all(starters.map((p) => migratePg(p, 'test', MIGRATIONS)))
    expect(applied.sort()).toEqual([0, 0, 2])
    expect(await pgMigrationStatus(starters[1]!, 'test', MIGRATIONS)).toEqual({ version: 2, pending: 0 })
    // Another component's migrations are its own.
    expect(await pgMigrationStatus(starters[1]!, 'other', MIGRATIONS)).toEqual({ version: 0, pending: 2 })
  })

  it('reads BIGINT as numbers and NUMERIC as decimal strings', async () => {
    const p = pool()
    await migratePg(p, 'test', MIGRATIONS)
    await p.query('INSERT INTO t (name, amount, at) VALUES ($1, $2, $3)', ['n1', '0.10', 1_700_000_000_123])
    const row = (await p.query('SELECT amount, at FROM t WHERE name = $1', ['n1'])).rows[0]
    expect(row).toEqual({ amount: '0.10', at: 1_700_000_000_123 })
  })

  it('group commit: the writes of one turn share a transaction, and one that fails rolls back alone', async () => {
    const p = pool()
    await migratePg(p, 'test', MIGRATIONS)
    const group = createPgGroupCommit(p)
    const insert = (name: string) =>
      group.run(async (client) => {
        await client.query('INSERT INTO t (name) VALUES ($1)', [name])
        // The top-level transaction's id, the same inside every savepoint of one transaction.
        return (await client.query<{ id: string }>('SELECT txid_current()::text AS id')).rows[0]!.id
      })
    const results = await Promise.allSettled([insert('g1'), insert('g2'), insert('g1'), insert('g3')])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    const names = (await p.query<{ name: string }>("SELECT name FROM t WHERE name LIKE 'g%' ORDER BY name")).rows
    expect(names.map((r) => r.name)).toEqual(['g1', 'g2', 'g3'])
    // They shared one transaction.
    const ids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    expect(new Set(ids).size).toBe(1)
    await group.flush()
  })

  it('opens a store pool migrated, or only checked with migrate: false; migrates a database by URL', async () => {
    const tables = (prefix: string) => [
      { version: 1, sql: `CREATE TABLE ${prefix}_a (id INTEGER)` },
      { version: 2, sql: `CREATE TABLE ${prefix}_b (id INTEGER)` },
    ]
    const schema = { component: 'store', migrations: tables('store') }
    const unmigrated = await openPgStorePool(database.url, schema, { migrate: false, max: 1 })
    pools.push(unmigrated)
    expect(await pgMigrationStatus(unmigrated, 'store', schema.migrations)).toEqual({ version: 0, pending: 2 })
    const migrated = await openPgStorePool(database.url, schema, { max: 1 })
    pools.push(migrated)
    expect(await pgMigrationStatus(migrated, 'store', schema.migrations)).toEqual({ version: 2, pending: 0 })
    const byUrl = { component: 'by-url', migrations: tables('by_url') }
    expect(await migratePgDatabase(database.url, byUrl)).toBe(2)
    expect(await migratePgDatabase(database.url, byUrl)).toBe(0)
    await expect(
      openPgStorePool(database.url, { component: 'broken', migrations: [{ version: 1, sql: 'NOT SQL' }] }),
    ).rejects.toThrow()
  })

  it('a pool with synchronousCommit: false sets it for its sessions; others keep the server setting', async () => {
    const relaxed = openPgPool(database.url, { max: 1, synchronousCommit: false })
    pools.push(relaxed)
    const setting = async (p: PgPool) =>
      (
        await p.query<{ setting: string; source: string }>(
          "SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'",
        )
      ).rows[0]!
    expect(await setting(relaxed)).toEqual({ setting: 'off', source: 'client' })
    expect((await setting(pool())).source).not.toBe('client')
  })

  it('batch: the items of one turn go to one write, in order; keyed ones wait; a bad item fails alone', async () => {
    const p = pool()
    await migratePg(p, 'test', MIGRATIONS)
    const writes: string[][] = []
    const batch = createPgBatch(
      async (names: readonly string[]) => {
        writes.push([...names])
        const inserted = await p.query<{ name: string }>(
          'INSERT INTO t (name) SELECT unnest($1::text[]) RETURNING name',
          [names],
        )
        return inserted.rows.map((row) => row.name.toUpperCase())
      },
      // Names sharing a first letter never go in one write.
      { keysOf: (name) => [name[0]] },
    )
    const results = await Promise.allSettled(['b1', 'c1', 'b2', 'd1', 'c1'].map((name) => batch.run(name)))
    await batch.flush()
    expect(results).toEqual([
      { status: 'fulfilled', value: 'B1' },
      { status: 'fulfilled', value: 'C1' },
      { status: 'fulfilled', value: 'B2' },
      { status: 'fulfilled', value: 'D1' },
      expect.objectContaining({ status: 'rejected' }),
    ])
    // One write for the first of each letter, then the next; the failed one again, alone.
    expect(writes).toEqual([['b1', 'c1', 'd1'], ['b2', 'c1'], ['b2'], ['c1']])
    const names = (await p.query<{ name: string }>("SELECT name FROM t WHERE name ~ '^[bcd][0-9]$' ORDER BY name")).rows
    expect(names.map((r) => r.name)).toEqual(['b1', 'b2', 'c1', 'd1'])
  })
})
