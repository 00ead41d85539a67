import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from './postgres.js'

/** What a store needs for the matrix to clean up after a test. */
export interface ClosableStore {
  close(): Promise<void>
}

/**
 * One backend of a store contract suite. Call `fresh()` before each test and `cleanup()` after it;
 * `open()` may be called several times in between: two handles on one database are two processes,
 * as far as the database can tell.
 */
export interface StoreBackend<Store extends ClosableStore> {
  readonly name: 'sqlite' | 'postgres'
  /** A fresh, empty database for the next test. */
  fresh(): Promise<void>
  /** A store on the current test's database; closed by `cleanup()`. */
  open(): Promise<Store>
  /** Closes the stores this test opened, then removes its database. */
  cleanup(): Promise<void>
}

export interface StoreMatrixOptions<Store extends ClosableStore> {
  /** Opens the SQLite store on a file in `dir` (a fresh temporary folder per test). */
  sqlite(dir: string): Store | Promise<Store>
  /** Opens the PostgreSQL store on `url` (a fresh database per test). */
  postgres(url: string): Promise<Store>
  /** The cluster the test databases are made in (default: `TEST_POSTGRES_URL`, which the vitest setup sets). */
  postgresUrl?: string
}

/**
 * The SQLite and the PostgreSQL backend of one store contract, for `describe.each`: every test of
 * the suite runs against both, each on a database of its own.
 */
export function storeMatrix<Store extends ClosableStore>(
  options: StoreMatrixOptions<Store>,
): [StoreBackend<Store>, StoreBackend<Store>] {
  let dir = ''
  let database: TestDatabase | undefined
  return [
    backend('sqlite', {
      async fresh() {
        dir = mkdtempSync(join(tmpdir(), 'alipay-store-'))
      },
      open: async () => options.sqlite(dir),
      async drop() {
        rmSync(dir, { recursive: true, force: true })
      },
    }),
    backend('postgres', {
      async fresh() {
        database = await createTestDatabase(options.postgresUrl ?? process.env['TEST_POSTGRES_URL'])
      },
      open: () => options.postgres(database!.url),
      async drop() {
        await database?.drop()
        database = undefined
      },
    }),
  ]
}

function backend<Store extends ClosableStore>(
  name: StoreBackend<Store>['name'],
  database: { fresh(): Promise<void>; open(): Promise<Store>; drop(): Promise<void> },
): StoreBackend<Store> {
  const opened: Store[] = []
  return {
    name,
    fresh: () => database.fresh(),
    async open() {
      const store = await database.open()
      opened.push(store)
      return store
    },
    async cleanup() {
      for (const store of opened.splice(0)) await store.close()
      await database.drop()
    },
  }
}
