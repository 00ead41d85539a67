import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { buildPaymentResponse, encodeForm, md5Sign, stringToSign } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsx = `${root}node_modules/.bin/tsx`

/** Runs `npm run verify` the way a user does, with the message as argument or on stdin. */
function verify(args: string[], input?: string) {
  const result = spawnSync(tsx, ['scripts/verify.ts', ...args], { cwd: root, input, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, out: result.stdout + result.stderr }
}

const notify = {
  notify_id: 'a9f3c1e07b5d4a28e6c0f1b2d3e4a5b6c7',
  notify_time: '2024-05-01 12:00:06',
  notify_type: 'trade_status_sync',
  out_trade_no: 'D20240501120000000001',
  subject: '测试商品',
  total_fee: '0.01',
  trade_status: 'TRADE_SUCCESS',
}
const signed = { ...notify, sign_type: 'MD5', sign: md5Sign(stringToSign(notify), DEMO_PARTNER.md5Key) }

describe('npm run verify', () => {
  test('a good form body verifies and exits 0', () => {
    const { status, out } = verify(['--demo', encodeForm(signed)])
    expect(out).toContain('OK: MD5 signature verifies.')
    expect(status).toBe(0)
  })

  test('a tampered amount fails with exit 1, shows the string and never the key', () => {
    const { status, out } = verify(['--demo', encodeForm({ ...signed, total_fee: '0.02' })])
    expect(status).toBe(1)
    expect(out).toContain('FAILED')
    expect(out).toContain('total_fee=0.02')
    expect(out).not.toContain(DEMO_PARTNER.md5Key)
  })

  test('a JSON PaymentResponse from stdin is checked with success left out', () => {
    const { status, out } = verify(['--demo', '-'], JSON.stringify(buildPaymentResponse(signed, true)))
    expect(out).toContain('OK')
    expect(status).toBe(0)
  })

  test('a key from the environment, and a clear error without one', () => {
    const env = spawnSync(tsx, ['scripts/verify.ts', '--md5-key-env', 'ALIPAY_KEY', encodeForm(signed)], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ALIPAY_KEY: DEMO_PARTNER.md5Key },
    })
    expect(env.status).toBe(0)
    const none = verify([encodeForm(signed)])
    expect(none.status).toBe(2)
    expect(none.out).toContain('no key given')
  })
})
