import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { createTestDatabase, type TestDatabase } from '@alipay-payment-handler/testing/postgres'
import { demoPartnerConfig } from '../../../tests/support/demo-partners.js'
import { createSigningServer, type SigningServer } from './signing-server.js'
import { OPEN_STATUSES } from './session-store.js'

let database: TestDatabase
const servers: SigningServer[] = []
beforeAll(async () => {
  database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
})
afterAll(async () => {
  for (const server of servers) await server.close()
  await database.drop()
})

// No gateway call happens here; the URL is never dialled.
async function server(overrides: Partial<Parameters<typeof createSigningServer>[0]> = {}): Promise<SigningServer> {
  const created = await createSigningServer({
    ...overrides,
    gatewayUrl: 'http://127.0.0.1:9/gateway.do',
    partners: [demoPartnerConfig()],
    dbPath: database.url,
    logger: silentLogger(),
    publicOrigin: 'http://pay.test',
  })
  servers.push(created)
  return created
}

describe('two payment-app processes on one PostgreSQL database', () => {
  it('serve each other’s sessions, and a long poll on one answers a change made by the other', async () => {
    const a = await server()
    const b = await server()
    const now = Date.now()
    await a.store.insertSession({
      id: 'shared-1',
      partner: demoPartnerConfig().partner,
      paymentRequestId: 'pr-shared',
      merchantOrigin: 'http://localhost:4100',
      outTradeNo: 'SHARED1',
      subject: 'x',
      totalFee: '1.00',
      device: 'pc',
      merchantNotifyUrl: 'http://localhost:4100/notify',
      request: {},
      status: 'at_cashier',
      outcome: undefined,
      tradeNo: undefined,
      expiresAt: now + 3_600_000,
      windowClosed: false,
      nextPollAt: undefined,
      createdAt: now,
    })
    const read = await b.app.fetch(new Request('http://pay.test/api/sessions/shared-1'))
    expect(await read.json()).toMatchObject({ sessionId: 'shared-1', status: 'at_cashier' })
    // A 20 s long poll on `b`; `a` cancels the session meanwhile. The poll answers well before
    // its 20 s (the test's own timeout is 10 s), with the new status.
    const poll = b.app.fetch(new Request('http://pay.test/api/sessions/shared-1?wait=20&status=at_cashier'))
    // Let the poll reach its wait first.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await a.store.updateSession('shared-1', { status: 'cancelled' }, OPEN_STATUSES)).toBe(true)
    expect(await (await poll).json()).toMatchObject({ sessionId: 'shared-1', status: 'cancelled' })
    // Both report the shared store as ready.
    for (const s of [a, b]) {
      const ready = await s.app.fetch(new Request('http://pay.test/readyz'))
      expect(await ready.json()).toEqual({ ok: true, store: 'postgres', migrations: { applied: true, version: 3 } })
    }
  }, 10_000)

  it('share their rate limits: a client over the limit on one is over it on the other', async () => {
    // Three calls a minute per client and class, counted in the shared database.
    const rateLimits = { api: { limit: 3, windowMs: 60_000 } }
    const a = await server({ rateLimits })
    const b = await server({ rateLimits })
    // The test above counted its calls in the same table, under the same (in-process) client.
    await (a.store.sharedPool as unknown as { query(sql: string): Promise<unknown> }).query('DELETE FROM rate_limits')
    const statuses: number[] = []
    for (const s of [a, b, a, b]) {
      const response = await s.app.fetch(new Request('http://pay.test/api/sessions/no-such-session'))
      statuses.push(response.status)
      await response.body?.cancel()
    }
    // 404s until the fourth call, which either process refuses.
    expect(statuses).toEqual([404, 404, 404, 429])
  }, 10_000)
})
