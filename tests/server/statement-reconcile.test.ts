import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEMO_APP,
  DEMO_BUYER,
  DEMO_GATEWAY_RSA,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createOpenapiClient, createPaymentGateway } from '@alipay-payment-handler/gateway-client'
import { formatBeijingTime } from '@alipay-payment-handler/protocol'
import {
  nextStatementRun,
  previousBeijingDay,
  reconcileCli,
  type PaidVia,
  type StatementReconcileReport,
} from '@alipay-payment-handler/merchant'
import { eventually, startMerchant, tempDir, type Merchant } from '../support/harness.js'

/**
 * Reconciliation from the statement, end to end: the sandbox and the merchant's order service on
 * loopback, the statement fetched through alipay.data.dataservice.bill.downloadurl.query and
 * downloaded as Alipay's zip, and each kind of disagreement produced for real.
 */
const tmp = tempDir('alipay-statement-')
let sandbox: RunningSandbox
let blackHole: NotifyReceiver
let merchant: Merchant
let offsetMs = 0
const paid: PaidVia[] = []
const now = () => Date.now() + offsetMs
const gatewayConfig = () => ({
  kind: 'openapi' as const,
  gatewayUrl: sandbox.gatewayUrl,
  appId: DEMO_APP.appId,
  privateKey: DEMO_APP.privateKey,
  publicKey: DEMO_GATEWAY_RSA.publicKey,
  sellerId: DEMO_APP.sellerId,
  timeoutMs: 3000,
})

async function advance(ms: number) {
  const seconds = Math.ceil(ms / 1000)
  const res = await fetch(`${sandbox.url}/_sandbox/clock/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seconds }),
  })
  expect(res.status).toBe(200)
  offsetMs += seconds * 1000
}

/** Scans a precreate qr_code as the test payer and pays on the phone page. */
async function scanAndPay(qrCode: string) {
  const scan = await fetch(qrCode, { redirect: 'manual' })
  const code = new URL(scan.headers.get('location')!, qrCode).searchParams.get('code')!
  const res = await fetch(`${sandbox.url}/phone/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, login: DEMO_BUYER.login, password: DEMO_BUYER.password }).toString(),
  })
  expect(res.status).toBe(200)
}

/** A trade the shop's order service never created: straight through the openapi client. */
async function payOutside(outTradeNo: string, amount: string) {
  const client = createOpenapiClient({ ...gatewayConfig(), now: () => new Date(now()) })
  const created = await client.call('alipay.trade.precreate', {
    out_trade_no: outTradeNo,
    total_amount: amount,
    subject: 'outside',
  })
  expect(created.ok).toBe(true)
  await scanAndPay(String(created.response['qr_code']))
  return client
}

beforeAll(async () => {
  sandbox = await startSandbox(
    demoSandboxConfig({
      port: 0,
      dbPath: `${tmp.dir}/sandbox.db`,
      timeScale: 0.001,
      // The clock jumps a day ahead below; the merchant's timestamps follow it.
      openapiTimestampToleranceSeconds: 0,
      log: () => {},
    }),
  )
  blackHole = await startReceiver()
  blackHole.answers.push(...Array.from({ length: 500 }, () => ({ status: 200, body: 'fail' })))
  merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders.db`, {
    gateway: createPaymentGateway(gatewayConfig()),
    onPaid: (_order, via) => void paid.push(via),
    now,
  })
  // Start half an hour into a Beijing day, so every trade below falls in the same day.
  await advance(nextStatementRun(now(), 0) + 30 * 60_000 - now())
})
afterAll(async () => {
  await merchant?.close()
  await blackHole?.close()
  await sandbox?.close()
  tmp.cleanup()
})

describe('reconciliation from the statement', () => {
  it('finds and repairs or flags each kind of disagreement, and keeps the report', async () => {
    const { orders, store } = merchant
    const day = formatBeijingTime(new Date(now())).slice(0, 10)

    // Agrees: paid and notified.
    const fine = await orders.create('fine', '1.00')
    await scanAndPay((await orders.getPayUrl(fine.orderId, 'PRE_PAY')).payUrl)
    await eventually(async () => (await orders.query(fine.orderId)).status === 'success')

    // Status differs: paid at the gateway, its notify lost.
    const lost = await createWithLostNotify('lost notify', '2.00')
    await scanAndPay((await lost.getPayUrl()).payUrl)
    await eventually(() => blackHole.received.some((n) => n.params['out_trade_no'] === lost.orderId))
    expect((await orders.query(lost.orderId)).status).toBe('wait')

    // Missing locally: a payment for an order the shop does not have.
    await payOutside(`OUT${Date.now()}`, '3.00')

    // Amount differs: the shop's order says 4.00, the gateway's trade 4.50.
    const differs = `DIF${Date.now()}`
    await payOutside(differs, '4.50')
    await store.insert({
      orderId: differs,
      subject: 'differs',
      amount: '4.00',
      state: 'wait',
      tradeStatus: undefined,
      tradeNo: undefined,
      payTime: undefined,
      refunded: '0.00',
      createdAt: now(),
      updatedAt: now(),
      expiresAt: now() + 3600_000,
    })

    // Missing remotely: paid here (by mistake) with no payment at the gateway.
    const ghost = await orders.create('ghost', '5.00')
    await store.transition(
      ghost.orderId,
      ['wait'],
      { state: 'success', tradeStatus: 'TRADE_SUCCESS', payTime: formatBeijingTime(new Date(now())) },
      now(),
    )

    // Refund still pending here, done at the gateway: what its notify would have settled.
    // (Its notifies are lost too, so nothing but the statement can tell the shop.)
    const refunded = await createWithLostNotify('refund pending', '6.00')
    await scanAndPay((await refunded.getPayUrl()).payUrl)
    await eventually(() => blackHole.received.some((n) => n.params['out_trade_no'] === refunded.orderId))
    expect((await orders.check(refunded.orderId)).status).toBe('success')
    expect(
      await store.reserveRefund(
        { batchNo: 'RPENDING1', orderId: refunded.orderId, amount: '1.50', reason: 'r' },
        now(),
      ),
    ).toBe(true)
    const client = createOpenapiClient({ ...gatewayConfig(), now: () => new Date(now()) })
    const tradeNo = (await orders.query(refunded.orderId)).tradeNo!
    const refund = (out_request_no: string, refund_amount: string) =>
      client.call('alipay.trade.refund', { trade_no: tradeNo, refund_amount, out_request_no })
    expect((await refund('RPENDING1', '1.50')).ok).toBe(true)
    // Refunded amount differs: a refund the shop never asked for.
    expect((await refund('RUNKNOWN1', '0.50')).ok).toBe(true)

    // Today's statement does not exist yet.
    await expect(orders.reconcileStatement({ billDate: day })).resolves.toMatchObject({
      errors: [expect.objectContaining({ code: 'GATEWAY_REFUSED' })],
    })

    await advance(24 * 3600_000)
    expect(previousBeijingDay(now())).toBe(day)
    const report = await orders.reconcileStatement({ billDate: day, trigger: 'test' })
    expect(report.statement).toEqual({
      billDate: day,
      billType: 'trade',
      payments: 5,
      refunds: 2,
      paid: '16.50',
      refunded: '2.00',
    })
    expect(report.errors).toEqual([])
    expect(report.repaired).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ orderId: lost.orderId, action: 'MARK_PAID', from: 'wait', to: 'success' }),
        expect.objectContaining({ orderId: refunded.orderId, action: 'MARK_REFUNDED', refundNo: 'RPENDING1' }),
      ]),
    )
    expect(report.repaired).toHaveLength(2)
    const reasons = report.needsHuman.map((n) => [n.reason, n.orderId.startsWith('OUT') ? 'OUT' : n.orderId])
    expect(reasons).toEqual(
      expect.arrayContaining([
        ['MISSING_LOCALLY', 'OUT'],
        ['AMOUNT_MISMATCH', differs],
        ['MISSING_REMOTELY', ghost.orderId],
        ['REFUND_MISMATCH', refunded.orderId],
      ]),
    )
    expect(report.needsHuman).toHaveLength(4)

    // Repairs went through the store: the order is paid, the refund settled, both audited.
    expect((await orders.query(lost.orderId)).status).toBe('success')
    expect(paid.filter((via) => via === 'reconcile')).toHaveLength(1)
    expect((await store.refunds(refunded.orderId)).find((r) => r.batchNo === 'RPENDING1')?.state).toBe('success')
    expect((await store.auditTrail(lost.orderId)).map((a) => [a.action, a.applied])).toEqual([['MARK_PAID', true]])
    expect((await store.auditTrail(refunded.orderId)).map((a) => a.action)).toEqual([
      'MARK_REFUNDED',
      'FLAG_REFUND_MISMATCH',
    ])
    expect((await store.auditTrail(differs)).map((a) => a.action)).toEqual(['FLAG_AMOUNT_MISMATCH'])
    // The report is kept, and a second run repairs nothing more.
    expect(await orders.latestReconciliation()).toMatchObject({ runId: report.runId, mode: 'statement' })
    const again = await orders.reconcileStatement({ billDate: day })
    expect(again.repaired).toEqual([])
    expect(again.needsHuman).toHaveLength(4)
  })

  it('runs from the CLI with --statement, printing the report as JSON', async () => {
    const day = previousBeijingDay(now())
    const out: string[] = []
    const err: string[] = []
    const status = await reconcileCli(['--statement', day, '--db', `${tmp.dir}/orders.db`, '--json'], {
      env: {
        ALIPAY_GATEWAY_URL: sandbox.gatewayUrl,
        ALIPAY_APP_ID: DEMO_APP.appId,
        ALIPAY_APP_PRIVATE_KEY: DEMO_APP.privateKey,
        ALIPAY_PUBLIC_KEY: DEMO_GATEWAY_RSA.publicKey,
      },
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
    })
    // Four findings are still waiting for a human: exit status 1.
    expect(status).toBe(1)
    const report = JSON.parse(out.join('')) as StatementReconcileReport
    expect(report).toMatchObject({ mode: 'statement', trigger: 'cli', statement: { billDate: day, payments: 5 } })
    expect(report.needsHuman).toHaveLength(4)
    const bad = await reconcileCli(['--statement', '2026-02-30'], {
      env: {},
      stdout: () => {},
      stderr: (t) => err.push(t),
    })
    expect(bad).toBe(2)
  })
})

async function createWithLostNotify(subject: string, amount: string) {
  // Same store, another service whose notify URL goes nowhere: the gateway's notify is lost.
  const { createOrderService } = await import('@alipay-payment-handler/merchant')
  const lossy = createOrderService({
    store: merchant.store,
    gateway: createPaymentGateway(gatewayConfig()),
    notifyUrl: blackHole.url,
    now,
  })
  const order = await lossy.create(subject, amount)
  return { ...order, getPayUrl: () => lossy.getPayUrl(order.orderId, 'PRE_PAY') }
}
