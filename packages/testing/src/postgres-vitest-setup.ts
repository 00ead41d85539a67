import { startThrowawayPostgres } from './postgres.js'

/**
 * Vitest global setup: every PostgreSQL test reads `TEST_POSTGRES_URL`. It is `DATABASE_URL`
 * when that is set (CI with a server of its own), else a throwaway cluster started here for the
 * whole run. Workers and the processes tests spawn inherit it; each test file then creates a
 * database of its own with `createTestDatabase`.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const existing = process.env['DATABASE_URL']
  if (existing) {
    process.env['TEST_POSTGRES_URL'] = existing
    return async () => {}
  }
  const cluster = await startThrowawayPostgres()
  process.env['TEST_POSTGRES_URL'] = cluster.url
  return () => cluster.stop()
}
