import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verifyParams, type Params } from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { DEMO_BUYER, DEMO_GATEWAY_RSA, DEMO_PARTNER, DEMO_POOR_BUYER } from './demo-accounts.js'
import { startSandbox, type RunningSandbox } from './server.js'
import { parseDuration } from './triggers.js'
import {
  gatewayCall,
  notifyVerify,
  openCashier,
  payParams,
  returnParams,
  sleep,
  startReceiver,
  type NotifyReceiver,
} from './testing.js'

const GATEWAY_KEYS = { md5Key: DEMO_PARTNER.md5Key, publicKey: DEMO_GATEWAY_RSA.publicKey }

let sandbox: RunningSandbox
let receiver: NotifyReceiver

// Real time scale: nothing is retried by itself during a test, so every delivery seen is the trigger's doing.
beforeAll(async () => {
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => {} }))
})
afterAll(() => sandbox.close())
beforeEach(async () => {
  receiver = await startReceiver()
  await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' })
})
afterEach(() => receiver.close())

async function trigger(name: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sandbox.url}/_sandbox/triggers/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

/** Opens an unpaid trade whose notify goes to the receiver; returns its out_trade_no. */
async function openTrade(extra: Params = {}): Promise<string> {
  const params = payParams({ notify_url: receiver.url, return_url: 'http://shop.example/return', ...extra })
  await openCashier(sandbox.gatewayUrl, params)
  return params['out_trade_no']!
}

async function paidTrade(extra: Params = {}): Promise<{ outTradeNo: string; tradeNo: string; notifyId: string }> {
  const outTradeNo = await openTrade(extra)
  const paid = await trigger('pay', { out_trade_no: outTradeNo })
  expect(paid.status).toBe(200)
  const [notify] = await receiver.waitFor(1)
  receiver.received.length = 0
  const notifyId = notify!.params['notify_id']!
  await acknowledged(notifyId)
  return { outTradeNo, tradeNo: paid.body.trade.tradeNo, notifyId }
}

async function expectSigned(params: Params) {
  expect(await verifyParams(params, { keys: GATEWAY_KEYS })).toMatchObject({ ok: true })
}

async function query(outTradeNo: string) {
  const reply = await gatewayCall(sandbox.gatewayUrl, { service: 'single_trade_query', out_trade_no: outTradeNo })
  return reply.trade ?? {}
}

async function notifyRow(notifyId: string) {
  const { notifies } = (await (await fetch(`${sandbox.url}/_sandbox/notifies`)).json()) as {
    notifies: { notifyId: string; state: string; attempts: number; attemptList: any[] }[]
  }
  return notifies.find((n) => n.notifyId === notifyId)!
}

describe('sandbox triggers', () => {
  it('pays as a named buyer: signed return URL and trade_status_sync TRADE_SUCCESS', async () => {
    const outTradeNo = await openTrade()
    const paid = await trigger('pay', { out_trade_no: outTradeNo, buyer: DEMO_BUYER.login })
    expect(paid.status).toBe(200)
    expect(paid.body.trade.status).toBe('TRADE_SUCCESS')
    const ret = returnParams(paid.body.returnUrl)
    await expectSigned(ret)
    expect(ret).toMatchObject({ is_success: 'T', trade_status: 'TRADE_SUCCESS', buyer_email: DEMO_BUYER.login })
    const [notify] = await receiver.waitFor(1)
    await expectSigned(notify!.params)
    expect(notify!.params).toMatchObject({
      notify_type: 'trade_status_sync',
      out_trade_no: outTradeNo,
      trade_status: 'TRADE_SUCCESS',
      buyer_id: DEMO_BUYER.userId,
    })
    expect(notify!.params['business_scene']).toBeUndefined()
    await acknowledged(notify!.params['notify_id']!)
    expect(await notifyVerify(sandbox.gatewayUrl, notify!.params['notify_id']!)).toBe('false') // acknowledged
    expect((await query(outTradeNo))['trade_status']).toBe('TRADE_SUCCESS')
  })

  it('refuses to pay for an unknown buyer, a poor buyer, or twice', async () => {
    const outTradeNo = await openTrade({ total_fee: '1.00' })
    expect((await trigger('pay', { out_trade_no: outTradeNo, buyer: 'nobody@x' })).body.error).toBe('BUYER_NOT_EXIST')
    const poor = await trigger('pay', { out_trade_no: outTradeNo, buyer: DEMO_POOR_BUYER.login })
    expect(poor).toMatchObject({ status: 409, body: { error: 'PAY_REFUSED' } })
    expect((await trigger('pay', { out_trade_no: outTradeNo })).status).toBe(200)
    expect((await trigger('pay', { out_trade_no: outTradeNo })).body.error).toBe('TRADE_STATUS_ERROR')
    expect((await trigger('pay', { out_trade_no: 'no-such-order' })).status).toBe(404)
  })

  it('scans the QR code: paid on the phone, notified with business_scene=qrpay', async () => {
    const outTradeNo = await openTrade()
    expect((await trigger('scan', { out_trade_no: outTradeNo })).status).toBe(200)
    const [notify] = await receiver.waitFor(1)
    await expectSigned(notify!.params)
    expect(notify!.params).toMatchObject({ trade_status: 'TRADE_SUCCESS', business_scene: 'qrpay' })
  })

  it('closes an unpaid trade without a notify, and refuses to close a paid one', async () => {
    const outTradeNo = await openTrade()
    const closed = await trigger('close', { out_trade_no: outTradeNo })
    expect(closed.body.trade.status).toBe('TRADE_CLOSED')
    expect((await query(outTradeNo))['trade_status']).toBe('TRADE_CLOSED')
    const { outTradeNo: paid } = await paidTrade()
    expect((await trigger('close', { out_trade_no: paid })).body.error).toBe('TRADE_STATUS_ERROR')
    await sleep(100)
    expect(receiver.received).toHaveLength(0)
  })

  it('refunds part, then the rest: trade_status_sync with refund_status, then TRADE_CLOSED', async () => {
    const { outTradeNo } = await paidTrade({ total_fee: '10.00' })
    const part = await trigger('refund', { out_trade_no: outTradeNo, amount: '2.5', reason: 'damaged' })
    expect(part.body).toMatchObject({
      ok: true,
      amount: '2.50',
      trade: { status: 'TRADE_SUCCESS', refundedFee: '2.50' },
    })
    const [first] = await receiver.waitFor(1)
    await expectSigned(first!.params)
    expect(first!.params).toMatchObject({
      notify_type: 'trade_status_sync',
      trade_status: 'TRADE_SUCCESS',
      refund_status: 'REFUND_SUCCESS',
    })
    expect(first!.params['gmt_refund']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect((await trigger('refund', { out_trade_no: outTradeNo, amount: '8.00' })).body.error).toBe(
      'REFUND_AMOUNT_NOT_VALID',
    )
    const rest = await trigger('refund', { out_trade_no: outTradeNo })
    expect(rest.body).toMatchObject({ amount: '7.50', trade: { status: 'TRADE_CLOSED', refundedFee: '10.00' } })
    const [, second] = await receiver.waitFor(2)
    await expectSigned(second!.params)
    expect(second!.params).toMatchObject({ trade_status: 'TRADE_CLOSED', refund_status: 'REFUND_SUCCESS' })
    expect(second!.params['gmt_close']).toBeDefined()
    expect(receiver.received.map((n) => n.params['notify_type'])).toEqual(['trade_status_sync', 'trade_status_sync'])
    expect((await query(outTradeNo))['to_buyer_fee']).toBe('10.00')
  })

  it('finishes a paid trade: TRADE_FINISHED notify, and no refund afterwards', async () => {
    const { outTradeNo } = await paidTrade()
    expect((await trigger('finish', { out_trade_no: outTradeNo })).body.trade.status).toBe('TRADE_FINISHED')
    const [notify] = await receiver.waitFor(1)
    await expectSigned(notify!.params)
    expect(notify!.params).toMatchObject({ notify_type: 'trade_status_sync', trade_status: 'TRADE_FINISHED' })
    expect((await trigger('refund', { out_trade_no: outTradeNo })).body.error).toBe('TRADE_STATUS_ERROR')
    expect((await trigger('finish', { out_trade_no: outTradeNo })).body.error).toBe('TRADE_STATUS_ERROR')
  })

  it('resends a lost notify now, and refuses to resend an acknowledged one', async () => {
    expect((await trigger('fail-next', { count: 1, mode: 'drop' })).status).toBe(200)
    const outTradeNo = await openTrade()
    await trigger('pay', { out_trade_no: outTradeNo })
    await sleep(100)
    expect(receiver.received).toHaveLength(0)
    const { notifies } = (await (await fetch(`${sandbox.url}/_sandbox/notifies`)).json()) as any
    const lost = notifies.find((n: any) => n.params.includes(outTradeNo))
    expect(lost).toMatchObject({ state: 'pending', attempts: 1 })
    expect(await notifyVerify(sandbox.gatewayUrl, lost.notifyId)).toBe('true')
    const resent = await trigger('resend', { notify_id: lost.notifyId })
    expect(resent.body.notify).toMatchObject({ state: 'delivered', attempts: 2 })
    const [notify] = await receiver.waitFor(1)
    await expectSigned(notify!.params)
    expect(notify!.params['notify_id']).toBe(lost.notifyId)
    expect((await trigger('resend', { notify_id: lost.notifyId })).body.error).toBe('NOTIFY_ALREADY_ACKNOWLEDGED')
    expect((await trigger('resend', { notify_id: 'nope' })).status).toBe(404)
  })

  it('replays an acknowledged notify byte for byte; notify_verify exposes it', async () => {
    const { notifyId } = await paidTrade()
    const first = (await notifyRow(notifyId)) as any
    const replayed = await trigger('replay', { notify_id: notifyId })
    expect(replayed.body).toMatchObject({ ok: true, status: 200, answer: 'success' })
    const [copy] = await receiver.waitFor(1)
    // The very same signed message: same notify_time and sign, so the signature still verifies...
    await expectSigned(copy!.params)
    expect(new URLSearchParams(first.lastBody).get('sign')).toBe(copy!.params['sign'])
    expect(new URLSearchParams(first.lastBody).get('notify_time')).toBe(copy!.params['notify_time'])
    // ...but the gateway no longer vouches for it.
    expect(await notifyVerify(sandbox.gatewayUrl, notifyId)).toBe('false')
    const row = await notifyRow(notifyId)
    expect(row.state).toBe('delivered')
    expect(row.attemptList.map((a) => a.outcome)).toEqual(['success', 'replayed'])
  })

  it('makes the next deliveries fail as 5xx, time out or arrive twice, then stops', async () => {
    await trigger('fail-next', { count: 1, mode: '5xx' })
    const a = await paidTradeNoWait()
    const [got] = await receiver.waitFor(1)
    await expectSigned(got!.params)
    await waitForAttempts(a, 1)
    expect((await notifyRow(a)).attemptList[0]).toMatchObject({ outcome: 'failure', status: 502 })
    expect((await notifyRow(a)).state).toBe('pending')

    receiver.received.length = 0
    await trigger('fail-next', { count: 1, mode: 'timeout' })
    const b = await paidTradeNoWait()
    await receiver.waitFor(1)
    await waitForAttempts(b, 1)
    expect((await notifyRow(b)).attemptList[0]).toMatchObject({ outcome: 'failure', status: null })
    expect((await notifyRow(b)).attemptList[0].error).toMatch(/^TimeoutError/)

    // The sandbox clock jumps between the two POSTs: a body signed per POST would carry a new notify_time.
    await receiver.close()
    let jumped = false
    receiver = await startReceiver(async () => {
      if (jumped) return
      jumped = true
      expect((await trigger('clock', { duration: '+5s' })).status).toBe(200)
    })
    await trigger('fail-next', { count: 1, mode: 'twice' })
    expect(await (await fetch(`${sandbox.url}/_sandbox/triggers/fail-next`)).json()).toEqual({
      pending: { mode: 'twice', remaining: 1 },
    })
    const c = await paidTradeNoWait()
    const [one, two] = await receiver.waitFor(2)
    // The same signed bytes twice, as a real duplicated delivery.
    expect(one!.raw).toBe(two!.raw)
    await expectSigned(one!.params)
    await expectSigned(two!.params)
    await waitForAttempts(c, 2)
    expect((await notifyRow(c)).state).toBe('delivered')

    receiver.received.length = 0
    const d = await paidTradeNoWait()
    await receiver.waitFor(1)
    await waitForAttempts(d, 1)
    expect((await notifyRow(d)).attemptList.map((x) => x.outcome)).toEqual(['success'])
    expect((await trigger('fail-next', { count: 1, mode: 'sometimes' })).status).toBe(400)
  })

  it('fast-forwards the clock: an it_b_pay order expires', async () => {
    const outTradeNo = await openTrade({ it_b_pay: '30m' })
    expect((await query(outTradeNo))['trade_status']).toBe('WAIT_BUYER_PAY')
    const jumped = await trigger('clock', { duration: '+31m' })
    expect(jumped.status).toBe(200)
    expect(jumped.body.now).toBeGreaterThan(Date.now() + 30 * 60_000)
    expect((await query(outTradeNo))['trade_status']).toBe('TRADE_CLOSED')
    expect((await trigger('pay', { out_trade_no: outTradeNo })).body.error).toBe('TRADE_STATUS_ERROR')
    expect((await trigger('clock', { duration: 'soon' })).status).toBe(400)
  })

  it('parses durations', () => {
    expect(parseDuration('+25h')).toBe(90_000)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('3d')).toBe(259_200)
    expect(parseDuration('45')).toBe(45)
    expect(parseDuration('1x')).toBeUndefined()
    expect(parseDuration('h')).toBeUndefined()
  })

  it('refuses cross-origin writes and forms without the inspector token; the inspector forms work', async () => {
    const outTradeNo = await openTrade()
    const crossOrigin = await fetch(`${sandbox.url}/_sandbox/triggers/close`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ out_trade_no: outTradeNo }),
    })
    expect(crossOrigin.status).toBe(403)
    const crossFaults = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
      body: '{"duplicateNotify":true}',
    })
    expect(crossFaults.status).toBe(403)
    const form = (body: Record<string, string>) =>
      fetch(`${sandbox.url}/_sandbox/triggers/close`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: sandbox.url },
        body: new URLSearchParams(body).toString(),
        redirect: 'manual',
      })
    expect((await form({ out_trade_no: outTradeNo })).status).toBe(403)
    expect((await form({ out_trade_no: outTradeNo, csrf: 'guess' })).status).toBe(403)
    expect((await query(outTradeNo))['trade_status']).toBe('WAIT_BUYER_PAY')
    const text = (await (await fetch(`${sandbox.url}/_sandbox/triggers/close`, { method: 'POST' })).json()) as any
    expect(text.error).toBe('UNSUPPORTED_CONTENT_TYPE')

    const inspector = await fetch(`${sandbox.url}/_sandbox/inspector`)
    expect(inspector.headers.get('content-security-policy')).toContain("form-action 'self'")
    const page = await inspector.text()
    expect(page).toContain('data-trigger="pay"')
    const token = /name="csrf" value="([^"]+)"/.exec(page)![1]!
    const done = await form({ out_trade_no: outTradeNo, csrf: token })
    expect(done.status).toBe(303)
    const back = await (await fetch(new URL(done.headers.get('location')!, sandbox.url))).text()
    expect(back).toContain(`close: ${outTradeNo} is TRADE_CLOSED`)
  })
})

/** Opens and pays a trade without waiting for its notify; returns the notify_id. */
async function paidTradeNoWait(): Promise<string> {
  const outTradeNo = await openTrade()
  const paid = await trigger('pay', { out_trade_no: outTradeNo })
  const { notifies } = (await (await fetch(`${sandbox.url}/_sandbox/trades/${paid.body.trade.tradeNo}`)).json()) as any
  return notifies[0].notifyId
}

/** Waits until the sandbox has the receiver's answer: the receiver records a notify before it answers. */
async function acknowledged(notifyId: string) {
  const deadline = Date.now() + 5000
  while ((await notifyRow(notifyId)).state !== 'delivered') {
    if (Date.now() > deadline) throw new Error(`${notifyId} not acknowledged`)
    await sleep(10)
  }
}

async function waitForAttempts(notifyId: string, count: number) {
  const deadline = Date.now() + 5000
  while ((await notifyRow(notifyId)).attemptList.length < count) {
    if (Date.now() > deadline) throw new Error(`no ${count} attempts for ${notifyId}`)
    await sleep(10)
  }
}
