import { afterEach, describe, expect, it } from 'vitest'
import type { Params } from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { startSandbox, type RunningSandbox } from './server.js'
import { openCashier, payParams, postCashierPay, sleep, startReceiver, type NotifyReceiver } from './testing.js'

let sandbox: RunningSandbox | undefined
let receiver: NotifyReceiver | undefined
afterEach(async () => {
  await receiver?.close()
  await sandbox?.close()
})

async function pay(notifyUrl: string, extra: Params = {}): Promise<string> {
  const params = payParams({ notify_url: notifyUrl, ...extra })
  const response = await postCashierPay(await openCashier(sandbox!.gatewayUrl, params))
  expect(response.status).toBe(303)
  return params['out_trade_no']!
}

interface NotifyRow {
  notifyId: string
  state: string
  attempts: number
}

/** The sandbox's notifies once all are acknowledged (a receiver records a notify before it answers). */
async function deliveredNotifies(count: number): Promise<NotifyRow[]> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const { notifies } = (await (await fetch(`${sandbox!.url}/_sandbox/notifies`)).json()) as { notifies: NotifyRow[] }
    if (notifies.length === count && notifies.every((n) => n.state === 'delivered')) return notifies
    if (Date.now() > deadline) throw new Error(`not all delivered: ${JSON.stringify(notifies)}`)
    await sleep(20)
  }
}

describe('notify pacing', () => {
  it('keeps at most notifyConcurrency deliveries in flight, and waiting spends no attempt', async () => {
    sandbox = await startSandbox(demoSandboxConfig({ port: 0, timeScale: 0.001, notifyConcurrency: 2, log: () => {} }))
    let inFlight = 0
    let most = 0
    // Deliveries are held until all six payments are made, so the limit is reached however slowly they come.
    let allPaid!: () => void
    const paid = new Promise<void>((resolve) => (allPaid = resolve))
    receiver = await startReceiver(async () => {
      most = Math.max(most, ++inFlight)
      await Promise.all([paid, sleep(150)])
      inFlight--
    })
    for (let i = 0; i < 6; i++) await pay(receiver.url)
    for (let waited = 0; inFlight < 2 && waited < 5000; waited += 10) await sleep(10)
    allPaid()
    await receiver.waitFor(6, undefined, 10_000)
    expect(most).toBe(2)
    const rows = await deliveredNotifies(6)
    expect(rows.map((n) => n.attempts)).toEqual([1, 1, 1, 1, 1, 1])
  })

  it('starts the next attempt of a notify a full gap after a slow failed one ended, never during it', async () => {
    // At 0.001 the first gap is 120 ms; the receiver takes 400 ms to answer "fail".
    sandbox = await startSandbox(demoSandboxConfig({ port: 0, timeScale: 0.001, log: () => {} }))
    const spans: { start: number; end: number }[] = []
    receiver = await startReceiver(async () => {
      const span = { start: Date.now(), end: 0 }
      spans.push(span)
      if (spans.length === 1) await sleep(400)
      span.end = Date.now()
    })
    receiver.answers.push({ status: 200, body: 'fail' })
    await pay(receiver.url)
    await receiver.waitFor(2, undefined, 10_000)
    const [first, second] = spans
    expect(second!.start - first!.end).toBeGreaterThanOrEqual(110)
    const [row] = await deliveredNotifies(1)
    expect(row!.attempts).toBe(2)
  })
})
