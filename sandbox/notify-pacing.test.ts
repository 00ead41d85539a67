import { afterEach, describe, expect, it } from 'vitest'
import type { Params } from '../protocol/index'
import { demoSandboxConfig } from './config'
import { startSandbox, type RunningSandbox } from './server'
import { openCashier, payParams, postCashierPay, sleep, startReceiver, type NotifyReceiver } from './testing'

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

async function notifies(): Promise<NotifyRow[]> {
  const body = (await (await fetch(`${sandbox!.url}/_sandbox/notifies`)).json()) as { notifies: NotifyRow[] }
  return body.notifies
}

describe('notify pacing', () => {
  it('keeps at most notifyConcurrency deliveries in flight, and waiting spends no attempt', async () => {
    sandbox = await startSandbox(demoSandboxConfig({ port: 0, timeScale: 0.001, notifyConcurrency: 2, log: () => {} }))
    let inFlight = 0
    let most = 0
    receiver = await startReceiver(async () => {
      most = Math.max(most, ++inFlight)
      await sleep(150)
      inFlight--
    })
    for (let i = 0; i < 6; i++) await pay(receiver.url)
    await receiver.waitFor(6, undefined, 10_000)
    expect(most).toBe(2)
    const rows = await notifies()
    expect(rows).toHaveLength(6)
    expect(rows.every((n) => n.state === 'delivered' && n.attempts === 1)).toBe(true)
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
    const [row] = await notifies()
    expect(row).toMatchObject({ state: 'delivered', attempts: 2 })
  })
})
