import { join } from 'node:path'
import { storeMatrix } from '@alipay-payment-handler/testing/store-matrix'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openPgSessionStore } from './session-store-pg.js'
import { openSessionStore, type Session, type StoredNotify } from './session-store.js'

/**
 * One contract, two stores: every test here runs against the SQLite file store and the
 * PostgreSQL store, each test on a fresh database. `open()` may be called twice in a test: two
 * handles on one database are two processes, as far as the database can tell.
 */
const backends = storeMatrix({
  sqlite: (dir) => openSessionStore(join(dir, 'sessions.db')),
  postgres: (url) => openPgSessionStore(url, { max: 4 }),
})

let sessionCount = 0
const session = (overrides: Partial<Session> = {}): Omit<Session, 'updatedAt'> => {
  const n = ++sessionCount
  return {
    id: `s-${n}`,
    partner: '2088000000000001',
    paymentRequestId: `pr-${n}`,
    merchantOrigin: 'http://shop.test',
    outTradeNo: `order-${n}`,
    subject: 'Tea',
    totalFee: '12.30',
    device: 'pc',
    merchantNotifyUrl: 'http://shop.test/notify',
    request: { out_trade_no: `order-${n}`, sign: 'x' },
    status: 'at_cashier',
    outcome: undefined,
    tradeNo: undefined,
    expiresAt: 2_000_000_000_000,
    windowClosed: false,
    nextPollAt: undefined,
    createdAt: 1_700_000_000_000 + n,
    ...overrides,
  }
}

let notifyCount = 0
const notify = (s: Omit<Session, 'updatedAt'>, overrides: Partial<StoredNotify> = {}): Omit<StoredNotify, 'id'> => ({
  partner: s.partner,
  notifyId: `n-${++notifyCount}`,
  outTradeNo: s.outTradeNo,
  tradeStatus: 'TRADE_SUCCESS',
  sessionId: s.id,
  body: `notify_id=n-${notifyCount}&out_trade_no=${s.outTradeNo}`,
  contentType: 'application/x-www-form-urlencoded; charset=utf-8',
  receivedAt: 1_700_000_001_000,
  ...overrides,
})

const paid = { kind: 'paid' as const, details: { trade_no: 'T1' } } as unknown as NonNullable<Session['outcome']>

describe.each(backends)('session store conformance: $name', (impl) => {
  const open = () => impl.open()
  beforeEach(() => impl.fresh())
  afterEach(() => impl.cleanup())

  it('stores a session and reads it back field for field', async () => {
    const store = await open()
    const s = session({ nextPollAt: 1_700_000_000_500, windowClosed: true })
    await store.insertSession(s)
    const read = await store.getSession(s.id)
    expect(read).toEqual({ ...s, updatedAt: s.createdAt })
    expect(await store.getSession('missing')).toBeUndefined()
  })

  it('finds the newest session of an order and a paid one', async () => {
    const store = await open()
    const first = session({ outTradeNo: 'same-order', createdAt: 1_700_000_100_000 })
    const second = session({ outTradeNo: 'same-order', createdAt: 1_700_000_200_000 })
    await store.insertSession(first)
    await store.insertSession(second)
    expect((await store.latestSession(first.partner, 'same-order'))?.id).toBe(second.id)
    expect(await store.orderStanding(first.partner, 'same-order')).toEqual({ revoked: false, paid: false })
    expect(await store.updateSession(first.id, { status: 'paid' })).toBe(true)
    expect(await store.orderStanding(first.partner, 'same-order')).toEqual({ revoked: false, paid: true })
    expect(await store.orderStanding(first.partner, 'other-order')).toEqual({ revoked: false, paid: false })
  })

  it('revokes an order: its open sessions are cancelled, and the order stands revoked', async () => {
    const store = await open()
    const open1 = session({ outTradeNo: 'revoked-order', status: 'created' })
    const open2 = session({ outTradeNo: 'revoked-order', status: 'at_cashier' })
    const done = session({ outTradeNo: 'revoked-order', status: 'failed' })
    const other = session({ outTradeNo: 'kept-order', status: 'created' })
    for (const s of [open1, open2, done, other]) await store.insertSession(s)
    const moved = await store.cancelOpenSessionsForOrder(open1.partner, 'revoked-order', paid)
    expect(moved.sort()).toEqual([open1.id, open2.id].sort())
    expect((await store.getSession(open2.id))?.status).toBe('cancelled')
    expect((await store.getSession(done.id))?.status).toBe('failed')
    expect((await store.getSession(other.id))?.status).toBe('created')
    expect(await store.orderStanding(open1.partner, 'revoked-order')).toEqual({ revoked: true, paid: false })
    expect(await store.orderStanding(open1.partner, 'kept-order')).toEqual({ revoked: false, paid: false })
    // Revoking again moves nothing and keeps the order revoked.
    expect(await store.cancelOpenSessionsForOrder(open1.partner, 'revoked-order', paid)).toEqual([])
    expect((await store.orderStanding(open1.partner, 'revoked-order')).revoked).toBe(true)
  })

  it('applies a transition only from the statuses given (compare-and-set)', async () => {
    const store = await open()
    const s = session()
    await store.insertSession(s)
    expect(await store.updateSession(s.id, { status: 'paid', outcome: paid, tradeNo: 'T1' }, ['at_cashier'])).toBe(true)
    expect(await store.updateSession(s.id, { status: 'cancelled' }, ['created', 'at_cashier'])).toBe(false)
    const read = await store.getSession(s.id)
    expect(read).toMatchObject({ status: 'paid', outcome: paid, tradeNo: 'T1' })
  })

  it('lets exactly one of two processes win a race on one session', async () => {
    const a = await open()
    const b = await open()
    for (let round = 0; round < 20; round++) {
      const s = session()
      await a.insertSession(s)
      const results = await Promise.all([
        a.updateSession(s.id, { status: 'paid' }, ['at_cashier']),
        b.updateSession(s.id, { status: 'cancelled' }, ['at_cashier']),
      ])
      expect(results.filter(Boolean)).toHaveLength(1)
      expect((await b.getSession(s.id))?.status).toBe(results[0] ? 'paid' : 'cancelled')
    }
  })

  it('lists open sessions due for a poll', async () => {
    const store = await open()
    const now = 1_800_000_000_000
    const closed = session({ windowClosed: true, nextPollAt: now - 1 })
    const later = session({ windowClosed: true, nextPollAt: now + 10_000 })
    const expired = session({ expiresAt: now - 5 })
    const settled = session({ windowClosed: true, status: 'paid' })
    for (const s of [closed, later, expired, settled]) await store.insertSession(s)
    const due = (await store.dueForPoll(now, 10)).map((s) => s.id)
    expect(due.sort()).toEqual([closed.id, expired.id].sort())
  })

  it('records a notify once per notify_id, with its outbox job and its settlement in one transaction', async () => {
    const store = await open()
    const s = session()
    await store.insertSession(s)
    const n = notify(s)
    const first = await store.recordNotify(n, s.merchantNotifyUrl, 1_000, {
      sessionId: s.id,
      outcome: paid,
      tradeNo: 'T9',
    })
    expect(first).toMatchObject({ inserted: true, settled: 'status' })
    const again = await store.recordNotify(n, s.merchantNotifyUrl, 2_000, {
      sessionId: s.id,
      outcome: paid,
      tradeNo: 'T9',
    })
    expect(again).toEqual({ inserted: false, settled: undefined })
    expect(await store.countNotifies(s.partner, n.notifyId)).toBe(1)
    expect(await store.hasNotify(s.partner, n.notifyId)).toBe(true)
    expect(await store.hasNotify('another-partner', n.notifyId)).toBe(false)
    expect(await store.getSession(s.id)).toMatchObject({ status: 'paid', tradeNo: 'T9', nextPollAt: undefined })
    const jobs = await store.outboxForOrder(s.partner, s.outTradeNo)
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({ state: 'pending', attempts: 0, body: n.body, contentType: n.contentType })
    expect((await store.paidNotifyFor(s.partner, s.outTradeNo))?.notifyId).toBe(n.notifyId)
  })

  it('answers on arrival whether a notify is stored and the newest session of its order', async () => {
    const store = await open()
    const older = session({ outTradeNo: 'arrival-order' })
    const newer = session({ outTradeNo: 'arrival-order' })
    await store.insertSession(older)
    await store.insertSession(newer)
    const n = notify(newer)
    expect(await store.notifyArrival(newer.partner, n.notifyId, 'arrival-order')).toMatchObject({
      stored: false,
      session: { id: newer.id, merchantNotifyUrl: newer.merchantNotifyUrl, totalFee: newer.totalFee },
    })
    await store.recordNotify(n, newer.merchantNotifyUrl, 1)
    expect(await store.notifyArrival(newer.partner, n.notifyId, 'arrival-order')).toMatchObject({
      stored: true,
      session: { id: newer.id },
    })
    expect(await store.notifyArrival(newer.partner, n.notifyId, undefined)).toEqual({
      stored: true,
      session: undefined,
    })
    expect(await store.notifyArrival('another-partner', n.notifyId, 'arrival-order')).toEqual({
      stored: false,
      session: undefined,
    })
  })

  it('fills in the signed set of a session the poller paid, and settles nothing already closed', async () => {
    const store = await open()
    const byPoller = session()
    const cancelled = session()
    await store.insertSession(byPoller)
    await store.insertSession(cancelled)
    await store.updateSession(byPoller.id, { status: 'paid' })
    await store.updateSession(cancelled.id, { status: 'cancelled' })
    const filled = await store.recordNotify(notify(byPoller), undefined, 1, {
      sessionId: byPoller.id,
      outcome: paid,
      tradeNo: undefined,
    })
    expect(filled.settled).toBe('outcome')
    expect((await store.getSession(byPoller.id))?.outcome).toEqual(paid)
    const late = await store.recordNotify(notify(cancelled), undefined, 1, {
      sessionId: cancelled.id,
      outcome: paid,
      tradeNo: undefined,
    })
    expect(late).toMatchObject({ inserted: true, settled: undefined })
    expect(await store.getSession(cancelled.id)).toMatchObject({ status: 'cancelled', outcome: undefined })
  })

  it('stores each of many notifies racing in one turn exactly once (group commit)', async () => {
    const a = await open()
    const b = await open()
    const s = session()
    await a.insertSession(s)
    const notifies = Array.from({ length: 30 }, () => notify(s))
    // Every notify arrives twice, once at each process.
    const results = await Promise.all(
      notifies.flatMap((n) => [a.recordNotify(n, s.merchantNotifyUrl, 5), b.recordNotify(n, s.merchantNotifyUrl, 5)]),
    )
    expect(results.filter((r) => r.inserted)).toHaveLength(30)
    expect(await a.outboxForOrder(s.partner, s.outTradeNo)).toHaveLength(30)
    expect((await b.outboxCounts()).pending).toBeGreaterThanOrEqual(30)
  })

  it('in one turn of one process: a notify sent twice is stored once, a session settles once, a bad notify fails alone', async () => {
    const store = await open()
    const s = session()
    const other = session()
    await store.insertSession(s)
    await store.insertSession(other)
    const twice = notify(s)
    const settle = (target: Omit<Session, 'updatedAt'>, tradeNo: string) => ({
      sessionId: target.id,
      outcome: paid,
      tradeNo,
    })
    const [first, second, finished, orphan, plain] = await Promise.allSettled([
      store.recordNotify(twice, s.merchantNotifyUrl, 10, settle(s, 'T1')),
      store.recordNotify(twice, s.merchantNotifyUrl, 10, settle(s, 'T1')),
      // TRADE_FINISHED after TRADE_SUCCESS, in the same turn: the session is paid by then.
      store.recordNotify(notify(s, { tradeStatus: 'TRADE_FINISHED' }), s.merchantNotifyUrl, 10, settle(s, 'T2')),
      // Names a session that does not exist: the store refuses it.
      store.recordNotify(notify(s, { sessionId: 'no-such-session' }), s.merchantNotifyUrl, 10),
      store.recordNotify(notify(other), other.merchantNotifyUrl, 10, settle(other, 'T3')),
    ])
    expect(first).toMatchObject({ status: 'fulfilled', value: { inserted: true, settled: 'status' } })
    expect(second).toMatchObject({ status: 'fulfilled', value: { inserted: false, settled: undefined } })
    expect(finished).toMatchObject({ status: 'fulfilled', value: { inserted: true, settled: undefined } })
    expect(orphan.status).toBe('rejected')
    expect(plain).toMatchObject({ status: 'fulfilled', value: { inserted: true, settled: 'status' } })
    expect(await store.countNotifies(s.partner, twice.notifyId)).toBe(1)
    expect(await store.getSession(s.id)).toMatchObject({ status: 'paid', tradeNo: 'T1' })
    expect(await store.getSession(other.id)).toMatchObject({ status: 'paid', tradeNo: 'T3' })
    // One job per stored notify, none for the refused one.
    expect(await store.outboxForOrder(s.partner, s.outTradeNo)).toHaveLength(2)
    expect((await store.outboxCounts()).pending).toBe(3)
  })

  it('leases each due job to one process only, and an expired lease is taken over', async () => {
    const a = await open()
    const b = await open()
    const s = session()
    await a.insertSession(s)
    for (let i = 0; i < 40; i++) await a.recordNotify(notify(s), s.merchantNotifyUrl, 100)
    const mine = (await a.outboxForOrder(s.partner, s.outTradeNo)).map((j) => j.id)
    const [leasedA, leasedB] = await Promise.all([
      a.leaseOutbox('a', 1_000, 25, 60_000),
      b.leaseOutbox('b', 1_000, 25, 60_000),
    ])
    const idsA = leasedA.map((j) => j.id).filter((id) => mine.includes(id))
    const idsB = leasedB.map((j) => j.id).filter((id) => mine.includes(id))
    expect(idsA.filter((id) => idsB.includes(id))).toEqual([])
    expect(new Set([...idsA, ...idsB]).size).toBe(40)
    // Still leased a minute later: nobody else gets them.
    expect((await b.leaseOutbox('b', 30_000, 100, 60_000)).filter((j) => mine.includes(j.id))).toEqual([])
    // `a` died: after its lease ran out, `b` takes its jobs over.
    const taken = (await b.leaseOutbox('b', 61_001, 100, 60_000)).map((j) => j.id).filter((id) => idsA.includes(id))
    expect(taken.sort((x, y) => x - y)).toEqual([...idsA].sort((x, y) => x - y))
  })

  it('marks a delivery done whoever made it, and a stale failure never undoes it', async () => {
    const a = await open()
    const b = await open()
    const s = session()
    await a.insertSession(s)
    await a.recordNotify(notify(s), s.merchantNotifyUrl, 100)
    const [job] = await a.outboxForOrder(s.partner, s.outTradeNo)
    expect(await a.leaseOutbox('a', 200, 100, 1_000)).toContainEqual(expect.objectContaining({ id: job!.id }))
    // `a` stalls past its lease; `b` takes the job over and delivers it.
    expect(await b.leaseOutbox('b', 5_000, 100, 1_000)).toContainEqual(expect.objectContaining({ id: job!.id }))
    await b.markDelivered(job!.id, 5_100)
    // `a` comes back: its delivery went through too (the merchant de-duplicates) or failed.
    await a.markDelivered(job!.id, 5_200)
    await a.markAttemptFailed(job!.id, 'timeout', 9_000, 'a')
    expect(await a.getOutbox(job!.id)).toMatchObject({ state: 'delivered', attempts: 2, lastError: undefined })
    expect(await a.leaseOutbox('a', 100_000, 100, 1_000)).not.toContainEqual(expect.objectContaining({ id: job!.id }))
  })

  it('schedules a failed delivery again, gives up without a next attempt, and ignores another owner', async () => {
    const store = await open()
    const s = session()
    await store.insertSession(s)
    await store.recordNotify(notify(s), s.merchantNotifyUrl, 100)
    const [job] = await store.outboxForOrder(s.partner, s.outTradeNo)
    await store.leaseOutbox('a', 200, 100, 1_000)
    await store.markAttemptFailed(job!.id, 'HTTP 500', 10_000, 'someone-else')
    expect(await store.getOutbox(job!.id)).toMatchObject({ attempts: 0, state: 'pending' })
    await store.markAttemptFailed(job!.id, 'HTTP 500', 10_000, 'a')
    expect(await store.getOutbox(job!.id)).toMatchObject({ attempts: 1, state: 'pending', lastError: 'HTTP 500' })
    expect(await store.leaseOutbox('b', 9_999, 100, 1_000)).not.toContainEqual(expect.objectContaining({ id: job!.id }))
    expect(await store.leaseOutbox('b', 10_000, 100, 1_000)).toContainEqual(expect.objectContaining({ id: job!.id }))
    await store.markAttemptFailed(job!.id, 'HTTP 500', undefined, 'b')
    expect(await store.getOutbox(job!.id)).toMatchObject({ attempts: 2, state: 'failed' })
  })

  it('reports its migrations as applied', async () => {
    const store = await open()
    const status = await store.migrationStatus()
    expect(status.pending).toBe(0)
    expect(status.version).toBeGreaterThan(0)
  })
})
