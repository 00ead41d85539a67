import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { postCashierPay, startReceiver, type NotifyReceiver } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createTestDatabase, type TestDatabase } from '@alipay-payment-handler/testing/postgres'
import { runScheduledPass } from './reconcile-schedule.js'
import { startMerchant, tempDir, type Merchant } from '../../../tests/support/harness.js'

const tmp = tempDir()
let sandbox: RunningSandbox
/** Answers `fail` to every notify: to the merchant, every notify is lost. */
let blackHole: NotifyReceiver
const open: Merchant[] = []
const databases: TestDatabase[] = []

beforeAll(async () => {
  sandbox = await startSandbox(
    demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: 0.001, log: () => {} }),
  )
  blackHole = await startReceiver()
  blackHole.answers.push(...Array.from({ length: 200 }, () => ({ status: 200, body: 'fail' })))
})
afterEach(async () => {
  for (const m of open.splice(0)) await m.close()
})
afterAll(async () => {
  for (const database of databases) await database.drop()
  await blackHole.close()
  await sandbox.close()
  tmp.cleanup()
})

let fileCount = 0
const locations = {
  sqlite: async () => `${tmp.dir}/schedule-${++fileCount}.db`,
  postgres: async () => {
    const database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
    databases.push(database)
    return database.url
  },
}

async function merchantOn(location: string): Promise<Merchant> {
  const merchant = await startMerchant(sandbox.gatewayUrl, location, { notifyUrl: blackHole.url })
  open.push(merchant)
  return merchant
}

async function payOrder(merchant: Merchant, orderId: string) {
  const { payUrl } = await merchant.orders.getPayUrl(orderId, 'PRE_PAY')
  const toCashier = await fetch(payUrl, { redirect: 'manual' })
  expect(toCashier.status).toBe(302)
  const paid = await postCashierPay(new URL(toCashier.headers.get('location')!, payUrl).toString())
  expect(paid.status).toBe(303)
}

/**
 * Creates `count` orders, each in a later millisecond than the one before, oldest first. The ids
 * are unique across the file (the sandbox is shared), not left to the generator's six random digits.
 */
async function createOrders(merchant: Merchant, count: number): Promise<string[]> {
  const prefix = `S${randomBytes(4).toString('hex')}`
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const start = Date.now()
    while (Date.now() === start) await new Promise((resolve) => setImmediate(resolve))
    ids.push((await merchant.orders.create(`order ${i}`, '0.10', `${prefix}-${i}`)).orderId)
  }
  return ids
}

const schedule = { intervalMs: 3_600_000, limit: 200 }

describe.each(['sqlite', 'postgres'] as const)('the scheduled reconciliation on %s', (kind) => {
  it('checks every order of the window newest first, 200 a page, and a restart resumes at the saved cursor', async () => {
    const location = await locations[kind]()
    const first = await merchantOn(location)
    const ids = await createOrders(first, 260)
    // The newest five were paid and their notifies lost: exactly what reconciliation is for.
    const newest = ids.slice(-5)
    for (const id of newest) await payOrder(first, id)

    // The first process checks one page, then stops (a deploy): the cursor stays in the database.
    const stopped = await runScheduledPass(first, { ...schedule, owner: 'first' }, (pages) => pages >= 1)
    expect(stopped.outcome).toBe('stopped')
    expect(stopped.pages).toHaveLength(1)
    expect(stopped.pages[0]).toMatchObject({ checked: 200, truncated: true, errors: [] })
    expect(stopped.pages[0]!.repaired.map((r) => r.orderId).sort()).toEqual([...newest].sort())
    await first.close()
    open.splice(open.indexOf(first), 1)

    // Restarted (another process name): the pass resumes after the 200 newest, with the oldest 60.
    const second = await merchantOn(location)
    const resumed = await runScheduledPass(second, { ...schedule, owner: 'second' })
    expect(resumed.outcome).toBe('finished')
    expect(resumed.pages).toHaveLength(1)
    expect(resumed.pages[0]).toMatchObject({ checked: 60, truncated: false, repaired: [], errors: [] })
    for (const id of ids) expect((await second.store.get(id))?.state).toBe(newest.includes(id) ? 'success' : 'wait')

    // The pass is done: nobody runs it again before the interval is over.
    expect((await runScheduledPass(second, { ...schedule, owner: 'second' })).outcome).toBe('skipped')
    const dueAgain = () => Date.now() + schedule.intervalMs
    const next = await runScheduledPass(second, { ...schedule, owner: 'second', now: dueAgain })
    expect(next.outcome).toBe('finished')
    expect(next.pages.map((p) => p.checked)).toEqual([200, 60])
  }, 90_000)
})

describe('the scheduled reconciliation on one PostgreSQL database shared by two merchant processes', () => {
  it('runs each pass once: one process takes it, the other skips', async () => {
    const location = await locations.postgres()
    const a = await merchantOn(location)
    const b = await merchantOn(location)
    const ids = await createOrders(a, 25)
    await payOrder(b, ids[24]!)
    const options = { intervalMs: 3_600_000, limit: 10 }
    const results = await Promise.all([
      runScheduledPass(a, { ...options, owner: 'a' }),
      runScheduledPass(b, { ...options, owner: 'b' }),
    ])
    const outcomes = results.map((r) => r.outcome).sort()
    expect(outcomes).toEqual(['finished', 'skipped'])
    const ran = results.find((r) => r.outcome === 'finished')!
    expect(ran.pages.map((p) => p.checked)).toEqual([10, 10, 5])
    expect(ran.pages.flatMap((p) => p.repaired.map((r) => r.orderId))).toEqual([ids[24]])
    // Neither process runs it again within the interval.
    expect((await runScheduledPass(a, { ...options, owner: 'a' })).outcome).toBe('skipped')
    expect((await runScheduledPass(b, { ...options, owner: 'b' })).outcome).toBe('skipped')
  })
})
