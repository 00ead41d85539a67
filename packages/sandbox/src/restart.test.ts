import { afterAll, expect, it } from 'vitest'
import { demoSandboxConfig, type SandboxConfig } from './config.js'
import { startSandbox, type RunningSandbox } from './server.js'
import { openCashier, payParams, postCashierPay, sleep, startReceiver, tempDir } from './testing.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

// 0.002: the first retry gap (240 s) becomes 480 ms; an it_b_pay of 1d becomes about 3 minutes.
const config = (): SandboxConfig =>
  demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/restart.db`, timeScale: 0.002, log: () => {} })

/** The sandbox's only notify, once it is no longer pending (or after 5 s). */
async function settledNotify(sandbox: RunningSandbox) {
  for (let waited = 0; ; waited += 20) {
    const [notify] = sandbox.deps.store.listNotifies()
    if (notify?.state !== 'pending' || waited >= 5000) return notify
    await sleep(20)
  }
}

it('resumes pending notify retries after a restart, once per attempt', async () => {
  const receiver = await startReceiver()
  receiver.answers.push({ status: 500, body: 'oops' })
  const first = await startSandbox(config())
  const cashier = await openCashier(first.gatewayUrl, payParams({ notify_url: receiver.url, it_b_pay: '1d' }))
  expect((await postCashierPay(cashier)).status).toBe(303)
  const [attempt1] = await receiver.waitFor(1)
  await first.close()

  // Down for longer than the retry gap: the attempt is overdue when the sandbox comes back.
  await sleep(600)
  expect(receiver.received).toHaveLength(1)
  const second = await startSandbox(config())
  try {
    const [, attempt2] = await receiver.waitFor(2)
    expect(attempt2!.params['notify_id']).toBe(attempt1!.params['notify_id'])
    expect(attempt2!.at - attempt1!.at).toBeGreaterThanOrEqual(480)
    await sleep(300)
    expect(receiver.received).toHaveLength(2)
    // The receiver records a delivery before it answers: the sandbox marks it delivered on the answer.
    const notify = await settledNotify(second)
    expect(notify).toMatchObject({ state: 'delivered', attempts: 2 })
    expect(second.deps.store.attemptsOf(notify!.id).map((a) => [a.attemptNo, a.outcome, a.status])).toEqual([
      [1, 'failure', 500],
      [2, 'success', 200],
    ])
  } finally {
    await second.close()
    await receiver.close()
  }
})

it('keeps trades, balances and expiry deadlines across a restart', async () => {
  const first = await startSandbox(config())
  const params = payParams({ it_b_pay: '1m' })
  await openCashier(first.gatewayUrl, params)
  await first.close()
  await sleep(200)
  const second = await startSandbox(config())
  try {
    // 1m × 0.002 = 120 ms: expired while the sandbox was down, closed on start. Poll rather
    // than sleep a fixed time, so a loaded machine does not turn this into a flake.
    const status = () => second.deps.store.tradeByOutTradeNo(params['partner']!, params['out_trade_no']!)?.status
    for (let waited = 0; status() !== 'TRADE_CLOSED' && waited < 5000; waited += 50) await sleep(50)
    expect(status()).toBe('TRADE_CLOSED')
  } finally {
    await second.close()
  }
})
