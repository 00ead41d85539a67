import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyParams } from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { DEMO_BUYER, DEMO_PARTNER } from './demo-accounts.js'
import { startSandbox, type RunningSandbox } from './server.js'
import { openCashier, payParams, startReceiver, type NotifyReceiver } from './testing.js'

const SCRIPT = fileURLToPath(new URL('./trigger-cli.ts', import.meta.url))

/** Runs `npm run sandbox:trigger -- …` the way npm does, minus npm. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

let sandbox: RunningSandbox
let receiver: NotifyReceiver

beforeAll(async () => {
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => {} }))
  receiver = await startReceiver()
})
afterAll(async () => {
  await receiver.close()
  await sandbox.close()
})

describe('npm run sandbox:trigger', () => {
  it('pays, partly refunds and lists a trade against a running sandbox; exits 1 on a refusal, 2 on bad usage', async () => {
    const params = payParams({ notify_url: receiver.url, total_fee: '5.00' })
    await openCashier(sandbox.gatewayUrl, params)
    const out = params['out_trade_no']!
    const paid = await cli(['--sandbox', sandbox.url, 'pay', out, '--buyer', DEMO_BUYER.login])
    expect(paid).toMatchObject({ code: 0 })
    expect(paid.stdout).toContain(`${out}  trade_no=`)
    expect(paid.stdout).toContain('TRADE_SUCCESS')
    const refund = await cli(['refund', out, '1.00', '--reason', 'size', '--sandbox', sandbox.url])
    expect(refund.code).toBe(0)
    // Told apart by content, not arrival order: the two deliveries are independent.
    const notifies = await receiver.waitFor(2)
    const payNotify = notifies.find((n) => n.params['refund_status'] === undefined)
    const refundNotify = notifies.find((n) => n.params['refund_status'] !== undefined)
    expect(payNotify!.params['trade_status']).toBe('TRADE_SUCCESS')
    expect(refundNotify!.params).toMatchObject({ refund_status: 'REFUND_SUCCESS', trade_status: 'TRADE_SUCCESS' })
    expect(await verifyParams(refundNotify!.params, { keys: { md5Key: DEMO_PARTNER.md5Key } })).toMatchObject({
      ok: true,
    })
    const listed = await cli(['trades', out, '--sandbox', sandbox.url])
    expect(listed.stdout).toMatch(new RegExp(`${out} .* TRADE_SUCCESS {2}total=5.00 {2}refunded=1.00`))
    const refused = await cli(['close', out, '--sandbox', sandbox.url])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('TRADE_STATUS_ERROR')
    expect((await cli(['frobnicate', '--sandbox', sandbox.url])).code).toBe(2)
  }, 60_000)
})
