import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Params } from '@alipay-payment-handler/protocol'
import {
  DEMO_PARTNER,
  openCashier,
  payParams,
  postCashierPay,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import type { MapiClient, TradeLookup } from '@alipay-payment-handler/gateway-client'
import { judge, type ReconcileReport } from './order-reconcile.js'
import type { OrderView, PaidVia } from './order-service.js'
import type { Order, OrderState } from './order-store.js'
import { reconcileCli } from './reconcile-cli.js'
import { scheduleReconciliation } from './reconcile-schedule.js'
import { demoMapiClient, eventually, startMerchant, tempDir, type Merchant } from '../../../tests/support/harness.js'

const tmp = tempDir()
let sandbox: RunningSandbox
/** Receives the sandbox's notifies and answers `fail`: to the merchant, every notify is lost. */
let blackHole: NotifyReceiver
const open: Merchant[] = []
let dbCount = 0

beforeAll(async () => {
  sandbox = await startSandbox(
    demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: 0.001, log: () => {} }),
  )
  blackHole = await startReceiver()
  blackHole.answers.push(...Array.from({ length: 500 }, () => ({ status: 200, body: 'fail' })))
})
afterAll(async () => {
  for (const m of open) await m.close()
  await blackHole.close()
  await sandbox.close()
  tmp.cleanup()
})

/** A merchant on its own database whose notifies never arrive, recording every onPaid call. */
async function merchantWithLostNotifies(overrides: Parameters<typeof startMerchant>[2] = {}, dbPath?: string) {
  const paid: { orderId: string; via: PaidVia }[] = []
  const merchant = await startMerchant(sandbox.gatewayUrl, dbPath ?? `${tmp.dir}/orders-${++dbCount}.db`, {
    notifyUrl: blackHole.url,
    onPaid: (order: OrderView, via: PaidVia) => void paid.push({ orderId: order.orderId, via }),
    ...overrides,
  })
  open.push(merchant)
  return { merchant, paid }
}

/** Opens the order's PRE_PAY link at the sandbox and pays it as the demo buyer. */
async function payOrder(merchant: Merchant, orderId: string) {
  const { payUrl } = await merchant.orders.getPayUrl(orderId, 'PRE_PAY')
  const toCashier = await fetch(payUrl, { redirect: 'manual' })
  expect(toCashier.status).toBe(302)
  const paid = await postCashierPay(new URL(toCashier.headers.get('location')!, payUrl).toString())
  expect(paid.status).toBe(303)
}

/** The genuine notify the sandbox sent for `orderId` (to the black hole). */
async function capturedNotify(orderId: string): Promise<Params> {
  return eventually(() => blackHole.received.find((n) => n.params['out_trade_no'] === orderId)?.params)
}

const postNotify = (url: string, params: Params) =>
  fetch(`${url}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams(params).toString(),
  })

describe('reconciliation against the sandbox', () => {
  it('repairs a lost notify once, with an audit row, and finds nothing to do the second time', async () => {
    const { merchant, paid } = await merchantWithLostNotifies()
    const order = await merchant.orders.create('测试商品', '0.10')
    const untouched = await merchant.orders.create('never paid', '1.00')
    await payOrder(merchant, order.orderId)
    await capturedNotify(order.orderId)
    expect((await merchant.orders.query(order.orderId)).status).toBe('wait')

    const report = await merchant.orders.reconcile()
    expect(report).toMatchObject({ checked: 2, needsHuman: [], errors: [], skipped: [], truncated: false })
    expect(report.repaired).toEqual([
      {
        orderId: order.orderId,
        action: 'MARK_PAID',
        from: 'wait',
        to: 'success',
        tradeStatus: 'TRADE_SUCCESS',
        tradeNo: expect.stringMatching(/^\d{28}$/),
      },
    ])
    const repaired = await merchant.orders.query(order.orderId)
    expect(repaired).toMatchObject({
      status: 'success',
      tradeStatus: 'TRADE_SUCCESS',
      tradeNo: report.repaired[0]!.tradeNo,
    })
    expect(repaired.payTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect((await merchant.orders.query(untouched.orderId)).status).toBe('wait')
    expect(paid).toEqual([{ orderId: order.orderId, via: 'reconcile' }])

    const again = await merchant.orders.reconcile()
    expect(again.runId).toBeGreaterThan(report.runId)
    expect(again).toMatchObject({ checked: 2, repaired: [], needsHuman: [], skipped: [] })
    expect(paid).toHaveLength(1)
    const trail = await merchant.store.auditTrail(order.orderId)
    expect(trail).toEqual([
      expect.objectContaining({
        runId: report.runId,
        action: 'MARK_PAID',
        fromState: 'wait',
        toState: 'success',
        applied: true,
      }),
    ])
    expect((trail[0]!.detail['trade'] as Params)['trade_status']).toBe('TRADE_SUCCESS')
  })

  it('flags an amount mismatch for a human and leaves the order alone', async () => {
    const { merchant, paid } = await merchantWithLostNotifies()
    const order = await merchant.orders.create('测试商品', '9.90')
    // Another system opened and got paid a trade under this order number, for a different amount.
    const cashier = await openCashier(
      sandbox.gatewayUrl,
      payParams({ out_trade_no: order.orderId, total_fee: '0.02', notify_url: blackHole.url }),
    )
    expect((await postCashierPay(cashier)).status).toBe(303)

    const report = await merchant.orders.reconcile()
    expect(report.repaired).toEqual([])
    expect(report.needsHuman).toEqual([
      expect.objectContaining({
        orderId: order.orderId,
        reason: 'AMOUNT_MISMATCH',
        localState: 'wait',
        localAmount: '9.90',
        gatewayAmount: '0.02',
        tradeStatus: 'TRADE_SUCCESS',
      }),
    ])
    expect((await merchant.orders.query(order.orderId)).status).toBe('wait')
    expect(paid).toEqual([])
    expect(await merchant.store.auditTrail(order.orderId)).toEqual([
      expect.objectContaining({ action: 'FLAG_AMOUNT_MISMATCH', applied: false, fromState: 'wait' }),
    ])
  })

  it('closes an order whose trade was closed, and flags a paid order whose trade is closed', async () => {
    const { merchant, paid } = await merchantWithLostNotifies()
    const closing = await merchant.orders.create('x', '0.01')
    const paidHere = await merchant.orders.create('x', '0.01')
    for (const o of [closing, paidHere]) {
      await fetch((await merchant.orders.getPayUrl(o.orderId, 'PRE_PAY')).payUrl, { redirect: 'manual' })
      expect(await merchant.orders.cancelThird(o.orderId)).toBe('success')
    }
    // A bug or a hand edit marked this one paid, though the gateway closed it unpaid.
    await merchant.store.transition(
      paidHere.orderId,
      ['wait'],
      { state: 'success', tradeStatus: 'TRADE_SUCCESS' },
      Date.now(),
    )

    const report = await merchant.orders.reconcile()
    expect(report.repaired).toEqual([
      expect.objectContaining({ orderId: closing.orderId, action: 'MARK_CLOSED', to: 'close' }),
    ])
    expect(report.needsHuman).toEqual([
      expect.objectContaining({
        orderId: paidHere.orderId,
        reason: 'PAID_LOCALLY_CLOSED_REMOTELY',
        tradeStatus: 'TRADE_CLOSED',
      }),
    ])
    expect(await merchant.orders.query(closing.orderId)).toMatchObject({ status: 'close', tradeStatus: 'TRADE_CLOSED' })
    expect((await merchant.orders.query(paidHere.orderId)).status).toBe('success')
    expect(paid).toEqual([])
  })

  it('never pays twice when the notify is processed between the gateway query and the repair', async () => {
    const real = demoMapiClient(sandbox.gatewayUrl)
    let betweenQueryAndRepair: (() => Promise<void>) | undefined
    const gateway: MapiClient = {
      ...real,
      async singleTradeQuery(ref) {
        const answer = await real.singleTradeQuery(ref)
        const hook = betweenQueryAndRepair
        betweenQueryAndRepair = undefined
        await hook?.()
        return answer
      },
    }
    const { merchant, paid } = await merchantWithLostNotifies({ gateway })
    const order = await merchant.orders.create('x', '0.20')
    await payOrder(merchant, order.orderId)
    const notify = await capturedNotify(order.orderId)
    let notifyAnswer = ''
    betweenQueryAndRepair = async () => {
      notifyAnswer = await (await postNotify(merchant.url, notify)).text()
    }

    const report = await merchant.orders.reconcile()
    expect(notifyAnswer).toBe('success')
    expect(report.repaired).toEqual([])
    expect(report.skipped).toEqual([{ orderId: order.orderId, action: 'MARK_PAID', state: 'success' }])
    expect(paid).toEqual([{ orderId: order.orderId, via: 'notify' }])
    expect((await merchant.store.notifies(order.orderId)).map((n) => n.outcome)).toEqual(['paid'])
    expect(await merchant.store.auditTrail(order.orderId)).toEqual([
      expect.objectContaining({ action: 'MARK_PAID', fromState: 'success', applied: false }),
    ])
    expect((await merchant.orders.query(order.orderId)).status).toBe('success')
  })

  it('never pays twice when a reconciliation runs between the notify check and its commit', async () => {
    const real = demoMapiClient(sandbox.gatewayUrl)
    // An MD5 notify is confirmed by the trade query: the reconciliation runs right after it answered.
    let afterNotifyCheck: (() => Promise<void>) | undefined
    const gateway: MapiClient = {
      ...real,
      async singleTradeQuery(ref) {
        const answer = await real.singleTradeQuery(ref)
        const hook = afterNotifyCheck
        afterNotifyCheck = undefined
        await hook?.()
        return answer
      },
    }
    const { merchant, paid } = await merchantWithLostNotifies({ gateway })
    const order = await merchant.orders.create('x', '0.30')
    await payOrder(merchant, order.orderId)
    const notify = await capturedNotify(order.orderId)
    let report: ReconcileReport | undefined
    afterNotifyCheck = async () => {
      report = await merchant.orders.reconcile()
    }

    expect(await merchant.orders.notify(notify)).toMatchObject({ ack: 'success', outcome: 'updated' })
    expect(report?.repaired).toEqual([expect.objectContaining({ orderId: order.orderId, action: 'MARK_PAID' })])
    expect(paid).toEqual([{ orderId: order.orderId, via: 'reconcile' }])
    expect((await merchant.store.notifies(order.orderId)).map((n) => n.outcome)).toEqual(['updated'])
    // A replay of the same notify changes nothing either.
    expect(await merchant.orders.notify(notify)).toMatchObject({ outcome: 'duplicate' })
    expect(paid).toHaveLength(1)
  })

  it('reports a gateway that cannot be reached as errors, changing nothing', async () => {
    const { merchant } = await merchantWithLostNotifies({ gateway: demoMapiClient('http://127.0.0.1:9/gateway.do') })
    const order = await merchant.orders.create('x', '1.00')
    const report = await merchant.orders.reconcile()
    expect(report).toMatchObject({ checked: 0, repaired: [], needsHuman: [] })
    expect(report.errors).toEqual([
      expect.objectContaining({ orderId: order.orderId, code: 'GATEWAY_UNAVAILABLE', retryable: true }),
    ])
    expect((await merchant.orders.query(order.orderId)).status).toBe('wait')
  })

  it('checks the orders created since a date, at most limit of them, and says where to go on', async () => {
    let now = Date.parse('2024-05-01T04:00:00Z')
    const { merchant } = await merchantWithLostNotifies({ now: () => now })
    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      ids.push((await merchant.orders.create('x', '1.00')).orderId)
      now += 60_000
    }
    const report = await merchant.orders.reconcile({ since: '2024-05-01T04:01:00Z', limit: 2 })
    expect(report).toMatchObject({
      checked: 2,
      limit: 2,
      since: '2024-05-01T04:01:00.000Z',
      truncated: true,
      nextSince: '2024-05-01T04:03:00.000Z',
    })
    const rest = await merchant.orders.reconcile({ since: report.nextSince!, limit: 2 })
    expect(rest).toMatchObject({ checked: 1, truncated: false })
    expect(rest.nextSince).toBeUndefined()
    // Default window: the last 7 days of the service's clock.
    now += 8 * 24 * 3600_000
    expect((await merchant.orders.reconcile()).checked).toBe(0)
  })

  it('serves POST /orders/reconcile and GET /orders/reconciliation as JSON, and refuses bad input', async () => {
    const { merchant } = await merchantWithLostNotifies()
    const before = await fetch(`${merchant.url}/orders/reconciliation`)
    expect(before.status).toBe(404)
    expect(before.headers.get('content-type')).toContain('application/problem+json')
    expect(await before.json()).toMatchObject({ type: expect.stringMatching(/reconciliation-not-run$/) })

    const order = await merchant.orders.create('x', '0.40')
    await payOrder(merchant, order.orderId)
    const post = (body: unknown) =>
      fetch(`${merchant.url}/orders/reconcile`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await post({ since: 'yesterday' })).status).toBe(400)
    expect((await post({ limit: 0 })).status).toBe(400)
    const run = await post({})
    expect(run.status).toBe(200)
    const report = (await run.json()) as ReconcileReport
    expect(report).toMatchObject({ trigger: 'manual', checked: 1, repaired: [{ orderId: order.orderId }] })

    const latest = await fetch(`${merchant.url}/orders/reconciliation`)
    expect(latest.status).toBe(200)
    expect(await latest.json()).toEqual(report)
    // The order route still answers for real order ids.
    expect((await fetch(`${merchant.url}/orders/${order.orderId}`)).status).toBe(200)
  })

  it('runs on a schedule, keeps its latest report across a restart, and runs again when due', async () => {
    const dbPath = `${tmp.dir}/scheduled.db`
    const first = await merchantWithLostNotifies({}, dbPath)
    const order = await first.merchant.orders.create('x', '0.50')
    await payOrder(first.merchant, order.orderId)
    const loop = scheduleReconciliation(first.merchant, { intervalMs: 30 })
    const repairedRun = await eventually(async () => {
      const latest = await first.merchant.orders.latestReconciliation()
      return latest?.repaired.length ? latest : undefined
    })
    expect(repairedRun).toMatchObject({ trigger: 'schedule', repaired: [{ orderId: order.orderId }] })
    // Later runs keep running, and find nothing more to repair.
    await eventually(async () => ((await first.merchant.orders.latestReconciliation())?.runId ?? 0) > repairedRun.runId)
    await loop.stop()
    const lastBefore = (await first.merchant.orders.latestReconciliation())!
    await first.merchant.close()
    open.splice(open.indexOf(first.merchant), 1)

    const second = await merchantWithLostNotifies({}, dbPath)
    expect(await second.merchant.orders.latestReconciliation()).toEqual(lastBefore)
    // The last pass finished just now: the restarted schedule runs once its interval is over.
    const later = () => Date.now() + 61_000
    const again = scheduleReconciliation(second.merchant, { intervalMs: 60_000, now: later })
    const rerun = await eventually(async () => {
      const latest = await second.merchant.orders.latestReconciliation()
      return latest && latest.runId > lastBefore.runId ? latest : undefined
    })
    await again.stop()
    expect(rerun).toMatchObject({ trigger: 'schedule', checked: 1, repaired: [] })
    expect(second.paid).toEqual([])
    expect(first.paid).toEqual([{ orderId: order.orderId, via: 'reconcile' }])
  })

  it('runs from the CLI, printing the report as JSON, exiting 1 when a human is needed', async () => {
    const { merchant } = await merchantWithLostNotifies()
    const lost = await merchant.orders.create('x', '0.60')
    await payOrder(merchant, lost.orderId)
    const out: string[] = []
    const err: string[] = []
    const env = {
      ALIPAY_PARTNER: DEMO_PARTNER.partner,
      ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
      ALIPAY_ALLOWED_ORIGINS: 'http://localhost:4100',
    }
    const io = { env, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }
    const dbPath = `${tmp.dir}/orders-${dbCount}.db`
    const args = ['--db', dbPath, '--gateway', sandbox.gatewayUrl, '--json']
    expect(await reconcileCli(args, io), err.join('\n')).toBe(0)
    const report = JSON.parse(out.join('')) as ReconcileReport
    expect(report).toMatchObject({
      trigger: 'cli',
      checked: 1,
      repaired: [{ orderId: lost.orderId, action: 'MARK_PAID' }],
    })
    expect((await merchant.orders.query(lost.orderId)).status).toBe('success')

    const cheap = await merchant.orders.create('x', '9.90')
    await postCashierPay(
      await openCashier(sandbox.gatewayUrl, payParams({ out_trade_no: cheap.orderId, total_fee: '0.01' })),
    )
    out.length = 0
    expect(await reconcileCli(['--db', dbPath, '--gateway', sandbox.gatewayUrl], io)).toBe(1)
    expect(out.join('\n')).toMatch(new RegExp(`HUMAN\\s+${cheap.orderId}\\s+AMOUNT_MISMATCH`))
    expect(await reconcileCli(['--limit', 'many'], io)).toBe(2)
    expect(await reconcileCli(['--bogus'], io)).toBe(2)
    expect(err.join('\n')).toContain('Usage: npm run reconcile')
  })
})

describe('judge', () => {
  const order = (state: OrderState, extra: Partial<Order> = {}): Order => ({
    orderId: 'D1',
    subject: 's',
    amount: '9.90',
    state,
    tradeStatus: undefined,
    tradeNo: undefined,
    payTime: undefined,
    refunded: '0.00',
    createdAt: 0,
    updatedAt: 0,
    expiresAt: 1,
    ...extra,
  })
  const trade = (status: string, amount = '9.90', sellerId: string = DEMO_PARTNER.sellerId): TradeLookup => ({
    found: true,
    trade: { outTradeNo: 'D1', tradeNo: 'T1', status, amount, sellerId, payTime: undefined, raw: {} },
  })

  it('treats a fully refunded paid order with a closed trade as agreeing', () => {
    expect(judge(order('success', { refunded: '9.90' }), trade('TRADE_CLOSED'), DEMO_PARTNER.sellerId).kind).toBe(
      'agree',
    )
    expect(judge(order('success', { refunded: '1.00' }), trade('TRADE_CLOSED'), DEMO_PARTNER.sellerId)).toMatchObject({
      kind: 'flag',
      reason: 'PAID_LOCALLY_CLOSED_REMOTELY',
    })
  })

  it('flags a paid order the gateway does not know, or knows unpaid, and another seller', () => {
    expect(judge(order('success'), { found: false }, DEMO_PARTNER.sellerId)).toMatchObject({
      reason: 'PAID_LOCALLY_UNKNOWN_REMOTELY',
    })
    expect(judge(order('success'), trade('WAIT_BUYER_PAY'), DEMO_PARTNER.sellerId)).toMatchObject({
      reason: 'PAID_LOCALLY_UNPAID_REMOTELY',
    })
    expect(
      judge(order('wait'), trade('TRADE_SUCCESS', '9.90', '2088000000000001'), DEMO_PARTNER.sellerId),
    ).toMatchObject({
      reason: 'SELLER_MISMATCH',
    })
    expect(judge(order('wait'), { found: false }, DEMO_PARTNER.sellerId)).toEqual({ kind: 'agree' })
  })

  it('never repairs a paid order, nor any order whose trade amount differs', () => {
    const states = fc.constantFrom<OrderState>('wait', 'success', 'close', 'timeout')
    const statuses = fc.constantFrom(
      'WAIT_BUYER_PAY',
      'TRADE_SUCCESS',
      'TRADE_FINISHED',
      'TRADE_CLOSED',
      'TRADE_PENDING',
    )
    const amounts = fc.constantFrom('9.90', '9.9', '0.01', '99.00', 'x')
    fc.assert(
      fc.property(states, statuses, amounts, fc.boolean(), (state, status, amount, found) => {
        const verdict = judge(order(state), found ? trade(status, amount) : { found: false }, DEMO_PARTNER.sellerId)
        if (verdict.kind !== 'repair') return
        expect(state).not.toBe('success')
        expect(['9.90', '9.9']).toContain(amount)
        expect(verdict.from).not.toContain('success')
        if (verdict.action === 'MARK_PAID') expect(['TRADE_SUCCESS', 'TRADE_FINISHED']).toContain(status)
        else expect(status).toBe('TRADE_CLOSED')
      }),
    )
  })
})
