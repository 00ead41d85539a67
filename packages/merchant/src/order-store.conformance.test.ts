import { join } from 'node:path'
import { storeMatrix } from '@alipay-payment-handler/testing/store-matrix'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { OrderError } from './order-errors.js'
import { openPgOrderStore } from './order-store-pg.js'
import { openSqliteOrderStore, type Order } from './order-store.js'

/**
 * One contract, two stores: every test runs against the SQLite store and the PostgreSQL store,
 * each on a fresh database. Two `open()` handles on one database are two processes.
 */
const backends = storeMatrix({
  sqlite: (dir) => openSqliteOrderStore(join(dir, 'orders.db')),
  postgres: (url) => openPgOrderStore(url, { max: 6 }),
})

let count = 0
const order = (overrides: Partial<Order> = {}): Order => {
  const n = ++count
  return {
    orderId: `O${1000 + n}`,
    subject: '测试 tea',
    amount: '10.00',
    state: 'wait',
    tradeStatus: undefined,
    tradeNo: undefined,
    payTime: undefined,
    refunded: '0.00',
    createdAt: 1_700_000_000_000 + n * 1000,
    updatedAt: 1_700_000_000_000 + n * 1000,
    expiresAt: 1_700_000_900_000 + n * 1000,
    ...overrides,
  }
}

const record = (orderId: string | undefined, notifyId: string, outcome = 'paid') => ({
  notifyId,
  orderId,
  notifyType: 'trade_status_sync',
  tradeStatus: 'TRADE_SUCCESS',
  outcome,
  params: { notify_id: notifyId, out_trade_no: orderId ?? 'x' },
})

const paidPatch = { state: 'success' as const, tradeStatus: 'TRADE_SUCCESS', tradeNo: 'T1', payTime: '2024-05-01' }

describe.each(backends)('order store conformance: $name', (impl) => {
  const open = () => impl.open()
  beforeEach(() => impl.fresh())
  afterEach(() => impl.cleanup())

  it('stores an order and reads it back, amounts as canonical decimal strings', async () => {
    const store = await open()
    const o = order({ amount: '99.90' })
    await store.insert(o)
    expect(await store.get(o.orderId)).toEqual({ ...o, payChannel: undefined })
    expect(await store.get('missing')).toBeUndefined()
  })

  it('refuses a second order with the same id with ORDER_EXISTS', async () => {
    const store = await open()
    const o = order()
    await store.insert(o)
    const error = await store.insert({ ...o, subject: 'other' }).catch((e: unknown) => e)
    expect(error instanceof OrderError && error.code).toBe('ORDER_EXISTS')
    expect((await store.get(o.orderId))?.subject).toBe(o.subject)
  })

  it('applies a transition only from the states given', async () => {
    const store = await open()
    const o = order()
    await store.insert(o)
    expect(await store.transition(o.orderId, ['wait'], paidPatch, 5)).toBe(true)
    expect(await store.transition(o.orderId, ['wait', 'timeout'], { state: 'close' }, 6)).toBe(false)
    expect(await store.get(o.orderId)).toMatchObject({ ...paidPatch, updatedAt: 5 })
  })

  it('lets exactly one of two processes win a race on one order', async () => {
    const a = await open()
    const b = await open()
    for (let round = 0; round < 20; round++) {
      const o = order()
      await a.insert(o)
      const results = await Promise.all([
        a.transition(o.orderId, ['wait'], paidPatch, 1),
        b.transition(o.orderId, ['wait'], { state: 'close' }, 1),
      ])
      expect(results.filter(Boolean)).toHaveLength(1)
      expect((await b.get(o.orderId))?.state).toBe(results[0] ? 'success' : 'close')
    }
  })

  it('records a notify once by notify_id, with its transition in the same transaction', async () => {
    const a = await open()
    const b = await open()
    const o = order()
    await a.insert(o)
    const transition = { from: ['wait'] as const, patch: paidPatch }
    const results = await Promise.all([
      a.applyNotify(record(o.orderId, 'N1'), 10, transition),
      b.applyNotify(record(o.orderId, 'N1'), 10, transition),
    ])
    expect(results.filter((r) => !r.duplicate)).toEqual([{ duplicate: false, transitioned: true }])
    expect(results.filter((r) => r.duplicate)).toEqual([{ duplicate: true, transitioned: false }])
    expect(await a.hasNotify('N1')).toBe(true)
    expect(await a.notifies(o.orderId)).toEqual([
      expect.objectContaining({ notifyId: 'N1', outcome: 'paid', params: record(o.orderId, 'N1').params }),
    ])
    // A second notify of the paid order: recorded, no transition, its outcome for the unchanged case.
    const again = await a.applyNotify({ ...record(o.orderId, 'N2'), outcomeIfUnchanged: 'updated' }, 11, transition)
    expect(again).toEqual({ duplicate: false, transitioned: false })
    expect((await a.notifies(o.orderId)).map((n) => n.outcome)).toEqual(['paid', 'updated'])
    // A notify of no order is recorded too.
    expect(await a.applyNotify(record(undefined, 'N3', 'rejected:ORDER_NOT_EXIST'), 12)).toEqual({
      duplicate: false,
      transitioned: false,
    })
    expect(await a.hasNotify('N3')).toBe(true)
  })

  it('reserves refunds up to the amount paid, gives a failed one back, and refuses unpaid orders', async () => {
    const store = await open()
    const unpaid = order()
    const o = order({ amount: '10.00' })
    await store.insert(unpaid)
    await store.insert(o)
    expect(await store.reserveRefund({ batchNo: 'R0', orderId: unpaid.orderId, amount: '1.00', reason: 'x' }, 1)).toBe(
      false,
    )
    await store.transition(o.orderId, ['wait'], paidPatch, 1)
    expect(await store.reserveRefund({ batchNo: 'R1', orderId: o.orderId, amount: '3.30', reason: 'x' }, 2)).toBe(true)
    expect(await store.reserveRefund({ batchNo: 'R2', orderId: o.orderId, amount: '6.71', reason: 'x' }, 3)).toBe(false)
    expect(await store.reserveRefund({ batchNo: 'R3', orderId: o.orderId, amount: '6.70', reason: 'x' }, 4)).toBe(true)
    expect((await store.get(o.orderId))?.refunded).toBe('10.00')
    await store.settleRefund('R1', 'failed', 'SYSTEM_ERROR', 5)
    // Settling twice changes nothing more.
    await store.settleRefund('R1', 'failed', 'SYSTEM_ERROR', 6)
    expect((await store.get(o.orderId))?.refunded).toBe('6.70')
    await store.settleRefund('R3', 'success', undefined, 7)
    expect((await store.refunds(o.orderId)).map((r) => [r.batchNo, r.amount, r.state, r.gatewayCode])).toEqual([
      ['R1', '3.30', 'failed', 'SYSTEM_ERROR'],
      ['R3', '6.70', 'success', undefined],
    ])
  })

  it('reserves a refund of a cancelled order that was paid all the same, and of no other cancelled order', async () => {
    const store = await open()
    // Cancelled, then paid at the gateway (a late payment): closed with the trade recorded.
    const latePaid = order({ amount: '5.00' })
    const cancelled = order({ amount: '5.00' })
    await store.insert(latePaid)
    await store.insert(cancelled)
    await store.transition(
      latePaid.orderId,
      ['wait'],
      { state: 'close', tradeStatus: 'TRADE_SUCCESS', tradeNo: 'TL' },
      1,
    )
    await store.transition(cancelled.orderId, ['wait'], { state: 'close' }, 1)
    const refund = (orderId: string, batchNo: string) =>
      store.reserveRefund({ batchNo, orderId, amount: '5.00', reason: 'late payment' }, 2)
    expect(await refund(latePaid.orderId, 'RL1')).toBe(true)
    expect(await refund(latePaid.orderId, 'RL2')).toBe(false)
    expect(await refund(cancelled.orderId, 'RC1')).toBe(false)
    expect((await store.get(latePaid.orderId))?.refunded).toBe('5.00')
    expect((await store.get(cancelled.orderId))?.refunded).toBe('0.00')
  })

  it('settles a refund with its MARK_REFUNDED audit row in one transaction', async () => {
    const store = await open()
    const o = order({ amount: '10.00' })
    await store.insert(o)
    await store.transition(o.orderId, ['wait'], paidPatch, 1)
    await store.reserveRefund({ batchNo: 'RA', orderId: o.orderId, amount: '4.00', reason: 'x' }, 2)
    const runId = await store.startReconcileRun('statement', 3)
    const markRefunded = { runId, action: 'MARK_REFUNDED', toState: undefined, detail: { refundNo: 'RA' } }
    // The audit row cannot be written (no such run): the settlement rolls back with it.
    const failed = await store
      .settleRefund('RA', 'success', undefined, 4, { ...markRefunded, runId: runId + 1_000 })
      .catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(Error)
    expect((await store.refunds(o.orderId)).map((r) => r.state)).toEqual(['pending'])
    expect(await store.auditTrail(o.orderId)).toEqual([])
    // Written, both are there; a second settlement changes nothing and is audited as not applied.
    await store.settleRefund('RA', 'success', undefined, 5, markRefunded)
    await store.settleRefund('RA', 'success', undefined, 6, markRefunded)
    expect((await store.refunds(o.orderId)).map((r) => r.state)).toEqual(['success'])
    expect((await store.get(o.orderId))?.refunded).toBe('4.00')
    expect(await store.auditTrail(o.orderId)).toEqual([
      { ...markRefunded, orderId: o.orderId, fromState: 'success', applied: true, at: 5 },
      { ...markRefunded, orderId: o.orderId, fromState: 'success', applied: false, at: 6 },
    ])
  })

  it('refuses a refund number used before with REFUND_CONFLICT, reserving nothing', async () => {
    const store = await open()
    const o = order()
    await store.insert(o)
    await store.transition(o.orderId, ['wait'], paidPatch, 1)
    await store.reserveRefund({ batchNo: 'RX', orderId: o.orderId, amount: '1.00', reason: 'x' }, 2)
    const error = await store
      .reserveRefund({ batchNo: 'RX', orderId: o.orderId, amount: '1.00', reason: 'x' }, 3)
      .catch((e: unknown) => e)
    expect(error instanceof OrderError && error.code).toBe('REFUND_CONFLICT')
    expect((await store.get(o.orderId))?.refunded).toBe('1.00')
  })

  it('never reserves more than the amount paid when reservations race from two processes', async () => {
    const a = await open()
    const b = await open()
    const o = order({ amount: '10.00' })
    await a.insert(o)
    await a.transition(o.orderId, ['wait'], paidPatch, 1)
    // 30 reservations of 0.70 race for 10.00: exactly 14 fit.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).reserveRefund({ batchNo: `RR${i}`, orderId: o.orderId, amount: '0.70', reason: 'x' }, 2),
      ),
    )
    expect(results.filter(Boolean)).toHaveLength(14)
    expect((await a.get(o.orderId))?.refunded).toBe('9.80')
    expect(await b.refunds(o.orderId)).toHaveLength(14)
  })

  it('repairs with an audit row in one transaction, and audits findings that change nothing', async () => {
    const store = await open()
    const o = order()
    await store.insert(o)
    const runId = await store.startReconcileRun('test', 1)
    const audit = { runId, action: 'MARK_PAID', toState: 'success' as const, detail: { trade: { a: '1' } } }
    expect(await store.repair(o.orderId, ['wait'], paidPatch, audit, 2)).toEqual({ applied: true, fromState: 'wait' })
    expect(await store.repair(o.orderId, ['wait'], paidPatch, audit, 3)).toEqual({
      applied: false,
      fromState: 'success',
    })
    await store.audit(o.orderId, { runId, action: 'FLAG_AMOUNT', toState: undefined, detail: { x: 1 } }, 4)
    expect(await store.auditTrail(o.orderId)).toEqual([
      { ...audit, orderId: o.orderId, fromState: 'wait', applied: true, at: 2 },
      { ...audit, orderId: o.orderId, fromState: 'success', applied: false, at: 3 },
      {
        runId,
        action: 'FLAG_AMOUNT',
        toState: undefined,
        detail: { x: 1 },
        orderId: o.orderId,
        fromState: 'success',
        applied: false,
        at: 4,
      },
    ])
    await store.finishReconcileRun(runId, { checked: 1 }, 5)
    expect(await store.latestReconcileReport()).toEqual({ checked: 1 })
  })

  it('lists orders oldest first since an instant, and pages newest first with a cursor', async () => {
    const store = await open()
    const base = 1_800_000_000_000
    // Two orders share each millisecond: the order id breaks the tie.
    const orders = Array.from({ length: 9 }, (_, i) =>
      order({ orderId: `P${i}`, createdAt: base + Math.floor(i / 2), updatedAt: base }),
    )
    for (const o of [...orders].reverse()) await store.insert(o)
    expect((await store.ordersSince(base + 1, 3)).map((o) => o.orderId)).toEqual(['P2', 'P3', 'P4'])
    const pages: string[][] = []
    let before
    for (;;) {
      const page = await store.ordersNewestFirst(base + 1, before, 3)
      if (page.length === 0) break
      pages.push(page.map((o) => o.orderId))
      const last = page[page.length - 1]!
      before = { createdAt: last.createdAt, orderId: last.orderId }
    }
    expect(pages).toEqual([['P8', 'P7', 'P6'], ['P5', 'P4', 'P3'], ['P2']])
  })

  it('gives the scheduled pass to one process at a time, resumes its cursor, and runs it once per interval', async () => {
    const a = await open()
    const b = await open()
    const options = { leaseMs: 60_000, intervalMs: 600_000, windowMs: 7 * 86_400_000 }
    const t0 = 1_900_000_000_000
    const claims = await Promise.all([a.claimReconcilePass('a', t0, options), b.claimReconcilePass('b', t0, options)])
    expect(claims.filter(Boolean)).toHaveLength(1)
    const [winner, loser, winnerName] = claims[0] ? [a, b, 'a'] : [b, a, 'b']
    const loserName = winnerName === 'a' ? 'b' : 'a'
    expect(claims.find(Boolean)).toEqual({ since: t0 - options.windowMs, cursor: undefined })
    const cursor = { createdAt: t0 - 5_000, orderId: 'C9' }
    expect(await winner.saveReconcileCursor(winnerName, cursor, t0 + 1_000, options.leaseMs)).toBe(true)
    expect(await loser.saveReconcileCursor(loserName, cursor, t0 + 1_000, options.leaseMs)).toBe(false)
    // The winner dies: its lease runs out, the other process resumes the pass at the cursor.
    expect(await loser.claimReconcilePass(loserName, t0 + 30_000, options)).toBeUndefined()
    expect(await loser.claimReconcilePass(loserName, t0 + 61_001, options)).toEqual({
      since: t0 - options.windowMs,
      cursor,
    })
    await loser.finishReconcilePass(loserName, t0 + 70_000)
    // Finished: not due again until an interval later, for anyone.
    expect(await winner.claimReconcilePass(winnerName, t0 + 80_000, options)).toBeUndefined()
    const next = await winner.claimReconcilePass(winnerName, t0 + 70_000 + options.intervalMs, options)
    expect(next).toEqual({ since: t0 + 70_000 + options.intervalMs - options.windowMs, cursor: undefined })
    // A released lease keeps the cursor for whoever comes next.
    await winner.saveReconcileCursor(winnerName, cursor, t0 + 700_000, options.leaseMs)
    await winner.releaseReconcileLease(winnerName)
    expect((await loser.claimReconcilePass(loserName, t0 + 700_001, options))?.cursor).toEqual(cursor)
  })

  it('reports its migrations as applied', async () => {
    const store = await open()
    expect(await store.migrationStatus()).toMatchObject({ pending: 0 })
  })
})
