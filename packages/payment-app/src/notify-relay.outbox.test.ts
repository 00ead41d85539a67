import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { createTestDatabase, type TestDatabase } from '@alipay-payment-handler/testing/postgres'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createOutboxDispatcher } from './notify-relay.js'
import { openPgSessionStore } from './session-store-pg.js'
import { openSessionStore, type SessionStore } from './session-store.js'

/** The merchant's notify endpoint: answers `success` and keeps every body it got. */
let merchant: Server
let merchantUrl = ''
const received: string[] = []
beforeAll(async () => {
  merchant = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    request.on('end', () => {
      received.push(body)
      response.end('success')
    })
  })
  await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve))
  merchantUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/notify`
})
afterAll(() => new Promise<void>((resolve) => merchant.close(() => resolve())))

interface Space {
  open(): Promise<SessionStore>
  drop(): Promise<void>
}
const spaces = {
  sqlite: async (): Promise<Space> => {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-outbox-'))
    return {
      open: async () => openSessionStore(join(dir, 'relay.db')),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  },
  postgres: async (): Promise<Space> => {
    const database: TestDatabase = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
    return { open: () => openPgSessionStore(database.url, { max: 4 }), drop: () => database.drop() }
  },
}

describe.each(['sqlite', 'postgres'] as const)('the outbox shared by two relay processes on %s', (kind) => {
  let space: Space
  const stores: SessionStore[] = []
  const open = async () => {
    const store = await space.open()
    stores.push(store)
    return store
  }
  beforeEach(async () => {
    received.length = 0
    space = await spaces[kind]()
  })
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close()
    await space.drop()
  })

  /** Stores `count` notifies of one session with their outbox jobs, due at `at`. */
  async function queue(store: SessionStore, count: number, at: number): Promise<string[]> {
    const partner = '2088000000000001'
    await store.insertSession({
      id: 'S1',
      partner,
      paymentRequestId: 'pr',
      merchantOrigin: 'http://shop.test',
      outTradeNo: 'O1',
      subject: 'x',
      totalFee: '1.00',
      device: 'pc',
      merchantNotifyUrl: merchantUrl,
      request: {},
      status: 'at_cashier',
      outcome: undefined,
      tradeNo: undefined,
      expiresAt: at + 3_600_000,
      windowClosed: false,
      nextPollAt: undefined,
      createdAt: at,
    })
    const bodies = Array.from({ length: count }, (_, i) => `notify_id=N${i}&out_trade_no=O1`)
    await Promise.all(
      bodies.map((body, i) =>
        store.recordNotify(
          {
            partner,
            notifyId: `N${i}`,
            outTradeNo: 'O1',
            tradeStatus: 'TRADE_SUCCESS',
            sessionId: 'S1',
            body,
            contentType: 'application/x-www-form-urlencoded',
            receivedAt: at,
          },
          merchantUrl,
          at,
        ),
      ),
    )
    return bodies
  }

  it('delivers every job once when both processes drain it at the same moment', async () => {
    const a = await open()
    const b = await open()
    const t = 1_700_000_000_000
    const bodies = await queue(a, 60, t)
    const dispatcher = (store: SessionStore, owner: string) =>
      createOutboxDispatcher({ store, logger: silentLogger(), owner, now: () => t })
    const [byA, byB] = await Promise.all([dispatcher(a, 'a')(), dispatcher(b, 'b')()])
    expect(byA + byB).toBe(60)
    expect([...received].sort()).toEqual([...bodies].sort())
    expect(await b.outboxCounts()).toEqual({ pending: 0, delivered: 60, failed: 0 })
  })

  it('takes over the jobs of a process killed mid-delivery once their lease ran out', async () => {
    const a = await open()
    const b = await open()
    const t = 1_700_000_000_000
    const bodies = await queue(a, 10, t)
    // Process `a` leased everything, delivered one job, and was killed before recording it.
    const leased = await a.leaseOutbox('a', t, 100, 30_000)
    expect(leased).toHaveLength(10)
    await fetch(merchantUrl, { method: 'POST', body: leased[0]!.body })
    const survivor = (at: number) =>
      createOutboxDispatcher({ store: b, logger: silentLogger(), owner: 'b', now: () => at, leaseMs: 30_000 })
    // Within the lease: nothing for `b` to do.
    expect(await survivor(t + 10_000)()).toBe(0)
    // After it: `b` delivers all ten; the one delivered before goes again, and the merchant
    // de-duplicates it by notify_id, as it does any repeated notify.
    expect(await survivor(t + 30_001)()).toBe(10)
    expect(received.filter((body) => body === leased[0]!.body)).toHaveLength(2)
    expect(new Set(received)).toEqual(new Set(bodies))
    expect(await b.outboxCounts()).toEqual({ pending: 0, delivered: 10, failed: 0 })
    // Nothing is left for anyone, even long after.
    expect(await survivor(t + 86_400_000)()).toBe(0)
  })
})
