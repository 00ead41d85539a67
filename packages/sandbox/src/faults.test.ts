import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseGatewayReply, verifyParams, verifyTradeReply, type Params } from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { DEMO_GATEWAY_RSA, DEMO_PARTNER } from './demo-accounts.js'
import type { Faults } from './faults.js'
import { startSandbox, type RunningSandbox } from './server.js'
import {
  gatewayCall,
  gatewayGet,
  openCashier,
  payParams,
  postCashierPay,
  refundParams,
  returnParams,
  signRequest,
  sleep,
  startReceiver,
  type NotifyReceiver,
} from './testing.js'

const GATEWAY_KEYS = { md5Key: DEMO_PARTNER.md5Key, publicKey: DEMO_GATEWAY_RSA.publicKey }

let sandbox: RunningSandbox
let receiver: NotifyReceiver

beforeAll(async () => {
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, timeScale: 0.001, log: () => {} }))
})
afterAll(() => sandbox.close())
beforeEach(async () => {
  receiver = await startReceiver()
  await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' })
})
afterEach(() => receiver.close())

async function setFaults(faults: Partial<Faults>, on: RunningSandbox = sandbox): Promise<Response> {
  return fetch(`${on.url}/_sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  })
}

/** Pays a new trade with notify and return URLs; returns the return parameters and when the payment happened. */
async function payTrade(
  extra: Params = {},
  on: RunningSandbox = sandbox,
): Promise<{ ret: Params; paidAt: number; outTradeNo: string }> {
  const params = payParams({ notify_url: receiver.url, return_url: 'http://shop.example/return', ...extra })
  const cashier = await openCashier(on.gatewayUrl, params)
  const paidAt = Date.now()
  const response = await postCashierPay(cashier)
  expect(response.status).toBe(303)
  return { ret: returnParams(response.headers.get('location')!), paidAt, outTradeNo: params['out_trade_no']! }
}

interface TradeNotifies {
  notifies: { notifyId: string; state: string; attemptList: { outcome: string }[] }[]
}

async function attemptsOf(tradeNo: string) {
  const body = (await (await fetch(`${sandbox.url}/_sandbox/trades/${tradeNo}`)).json()) as TradeNotifies
  return body.notifies
}

/** The trade's notify once `count` attempts are recorded: the receiver records a delivery before it answers. */
async function notifyWithAttempts(tradeNo: string, count: number) {
  const deadline = Date.now() + 5000
  for (;;) {
    const [notify] = await attemptsOf(tradeNo)
    if (notify && notify.attemptList.length >= count) return notify
    if (Date.now() > deadline) throw new Error(`no ${count} attempts: ${JSON.stringify(notify)}`)
    await sleep(10)
  }
}

describe('fault injection', () => {
  it('delays the first delivery', async () => {
    expect((await setFaults({ notifyDelayMs: 300 })).status).toBe(200)
    const { paidAt } = await payTrade()
    const [first] = await receiver.waitFor(1)
    expect(first!.at - paidAt).toBeGreaterThanOrEqual(280)
  })

  it('drops deliveries, which are then retried on schedule and recorded as dropped', async () => {
    await setFaults({ dropNotifyAttempts: 1 })
    const { ret, paidAt } = await payTrade()
    const [first] = await receiver.waitFor(1)
    expect(first!.at - paidAt).toBeGreaterThanOrEqual(220)
    const notify = await notifyWithAttempts(ret['trade_no']!, 2)
    expect(notify.attemptList.map((a) => a.outcome)).toEqual(['dropped', 'success'])
  })

  it('sends each delivery twice with the same notify_id', async () => {
    await setFaults({ duplicateNotify: true })
    const { ret } = await payTrade()
    const both = await receiver.waitFor(2)
    expect(both[0]!.params['notify_id']).toBe(both[1]!.params['notify_id'])
    expect(both[0]!.raw).toBe(both[1]!.raw)
    await sleep(100)
    expect(receiver.received).toHaveLength(2)
    const notify = await notifyWithAttempts(ret['trade_no']!, 2)
    expect(notify.attemptList.map((a) => a.outcome)).toEqual(['success', 'success'])
  })

  it('delivers a trade’s notifies out of order', async () => {
    // Real time: the hold lasts the first retry gap (4 min), so it cannot run out before the
    // refund comes, however slow the machine; at 0.001 it would be 240 ms.
    const held = await startSandbox(demoSandboxConfig({ port: 0, log: () => {} }))
    try {
      await setFaults({ outOfOrderNotify: true }, held)
      const { ret } = await payTrade({}, held)
      await sleep(50)
      expect(receiver.received).toHaveLength(0)
      const refund = await gatewayCall(held.gatewayUrl, {
        ...refundParams(ret['trade_no']!, '0.01'),
        notify_url: receiver.url,
      })
      expect(refund.isSuccess).toBe(true)
      const all = await receiver.waitFor(3)
      const statuses = all.map((n) => n.params['trade_status'] ?? n.params['notify_type'])
      // The payment's TRADE_SUCCESS comes last, after the refund's notifies.
      expect(statuses[2]).toBe('TRADE_SUCCESS')
      expect(statuses.slice(0, 2).sort()).toEqual(['TRADE_CLOSED', 'batch_refund_notify'])
    } finally {
      await held.close()
    }
  })

  it('releases a held notify by itself after the first retry gap', async () => {
    await setFaults({ outOfOrderNotify: true })
    const { paidAt } = await payTrade()
    const [first] = await receiver.waitFor(1)
    expect(first!.at - paidAt).toBeGreaterThanOrEqual(220)
    expect(first!.params['trade_status']).toBe('TRADE_SUCCESS')
  })

  it('signs returns, notifies and replies with a wrong key', async () => {
    await setFaults({ wrongKey: ['return', 'notify', 'reply'] })
    const { ret, outTradeNo } = await payTrade()
    expect(await verifyParams(ret, { keys: GATEWAY_KEYS })).toMatchObject({ ok: false, reason: 'signature-mismatch' })
    const [notify] = await receiver.waitFor(1)
    expect(await verifyParams(notify!.params, { keys: GATEWAY_KEYS })).toMatchObject({ ok: false })
    const reply = await gatewayCall(
      sandbox.gatewayUrl,
      { service: 'single_trade_query', out_trade_no: outTradeNo },
      'RSA',
    )
    expect(await verifyTradeReply(reply, GATEWAY_KEYS)).toMatchObject({ ok: false })
    await setFaults({ wrongKey: [] })
    const good = await gatewayCall(
      sandbox.gatewayUrl,
      { service: 'single_trade_query', out_trade_no: outTradeNo },
      'RSA',
    )
    expect(await verifyTradeReply(good, GATEWAY_KEYS)).toMatchObject({ ok: true })
  })

  it('answers server-to-server calls with 5xx, only for the chosen services', async () => {
    await setFaults({ replyStatus: 502, replyServices: ['close_trade'] })
    const close = await signRequest({ service: 'close_trade', trade_no: '2024010121001001234567890123' })
    expect((await gatewayGet(sandbox.gatewayUrl, close)).status).toBe(502)
    const query = await signRequest({ service: 'single_trade_query', trade_no: '2024010121001001234567890123' })
    expect((await gatewayGet(sandbox.gatewayUrl, query)).status).toBe(200)
    await setFaults({ replyServices: [] })
    expect((await gatewayGet(sandbox.gatewayUrl, query)).status).toBe(502)
  })

  it('answers malformed XML', async () => {
    await setFaults({ malformedReply: true })
    const query = await signRequest({ service: 'single_trade_query', trade_no: '2024010121001001234567890123' })
    const text = await (await gatewayGet(sandbox.gatewayUrl, query)).text()
    expect(() => parseGatewayReply(text)).toThrow()
  })

  it('refuses unknown or malformed fault settings', async () => {
    expect((await setFaults({ bogus: true } as Partial<Faults>)).status).toBe(400)
    expect((await setFaults({ dropNotifyAttempts: -1 })).status).toBe(400)
    const bad = await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', body: '{"a":' })
    expect(bad.status).toBe(400)
    expect(await (await fetch(`${sandbox.url}/_sandbox/faults`)).json()).toMatchObject({ dropNotifyAttempts: 0 })
  })

  it('jumps the clock: a long it_b_pay expires and the inspector lists the trade', async () => {
    const params = payParams({ it_b_pay: '15d' })
    await openCashier(sandbox.gatewayUrl, params)
    const jump = await fetch(`${sandbox.url}/_sandbox/clock/advance`, {
      method: 'POST',
      body: JSON.stringify({ seconds: 15 * 86_400 * 0.001 + 1 }),
    })
    expect(jump.status).toBe(200)
    const reply = await gatewayCall(sandbox.gatewayUrl, {
      service: 'single_trade_query',
      out_trade_no: params['out_trade_no']!,
    })
    expect(reply.trade).toMatchObject({ trade_status: 'TRADE_CLOSED' })
    const inspector = await (await fetch(`${sandbox.url}/_sandbox/inspector`)).text()
    expect(inspector).toContain(params['out_trade_no'])
  })
})
