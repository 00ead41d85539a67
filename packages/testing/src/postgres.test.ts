import { existsSync } from 'node:fs'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createTestDatabase, startThrowawayPostgres } from './postgres.js'

const clusterUrl = process.env['TEST_POSTGRES_URL']!

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end()
  }
}

describe('throwaway PostgreSQL', () => {
  it('gives each test database its own tables, and drop removes it', async () => {
    const first = await createTestDatabase(clusterUrl)
    const second = await createTestDatabase(clusterUrl)
    await query(first.url, 'CREATE TABLE marker (id int)')
    const inSecond = await query(second.url, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'marker'")
    expect(inSecond.rows[0].n).toBe(0)
    await first.drop()
    await second.drop()
    const left = await query(
      clusterUrl,
      `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'alipay_test_%'`,
    )
    expect(left.rows[0].n).toBe(0)
  })

  it('starts a cluster of its own on a free port and removes its folder on stop', async () => {
    const cluster = await startThrowawayPostgres()
    const version = await query(cluster.url, 'SHOW server_version_num')
    expect(Number(version.rows[0].server_version_num)).toBeGreaterThanOrEqual(150000)
    const dataDir = (await query(cluster.url, 'SHOW data_directory')).rows[0].data_directory as string
    expect(existsSync(dataDir)).toBe(true)
    await cluster.stop()
    expect(existsSync(dataDir)).toBe(false)
    await expect(query(cluster.url, 'SELECT 1')).rejects.toThrow()
  })
})
