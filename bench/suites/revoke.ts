import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOrderId, sessionRevokeParams, signParams } from '@alipay-payment-handler/protocol'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer } from '@alipay-payment-handler/payment-app'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import type { BenchRow, BenchSuite } from '../row.js'
import { percentile, round } from '../support/stats.js'

/** One revoke per cancel, one after another, as a merchant's cancels arrive. */
const CALLS = 500
const WARMUP = 50
const MERCHANT_ORIGIN = 'http://localhost:4100'

/**
 * The cost a cancel pays for revoking the payment app's sessions (docs/security.md, rule 3): the
 * merchant signs the revoke (MD5) and waits for `POST /api/merchant/revoke` on loopback, with one
 * open session of the order to cancel. The gateway is not involved.
 */
export const revokeSuite: BenchSuite = {
  name: 'revoke',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-bench-revoke-'))
    const server = await startSigningServer({
      port: 0,
      gatewayUrl: 'http://127.0.0.1:9/gateway.do',
      partners: [demoPartnerConfig({ allowedOrigins: [MERCHANT_ORIGIN] })],
      dbPath: join(dir, 'signing.db'),
      logger: silentLogger(),
      rateLimits: false,
    })
    const latencies: number[] = []
    try {
      for (let i = 0; i < WARMUP + CALLS; i++) {
        const orderId = generateOrderId()
        await openSession(server.url, orderId)
        const t0 = performance.now()
        const params = await signParams(sessionRevokeParams(DEMO_PARTNER.partner, orderId, new Date()), {
          signType: 'MD5',
          keys: { md5Key: DEMO_PARTNER.md5Key },
        })
        const response = await fetch(`${server.url}/api/merchant/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ params }),
        })
        const answer = (await response.json()) as { revoked?: number }
        if (answer.revoked !== 1) throw new Error(`[alipay] bench: revoke answered ${JSON.stringify(answer)}`)
        if (i >= WARMUP) latencies.push(performance.now() - t0)
      }
    } finally {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
    const rows: BenchRow[] = [50, 99].map((p) => ({
      what: `revoke on cancel, p${p} (${CALLS} sequential calls, sign + loopback HTTP + SQLite)`,
      figure: round(percentile(latencies, p)),
      unit: 'ms',
      target: 'report',
    }))
    return rows
  },
}

/** A session of `orderId` at the cashier, for the revoke to cancel. */
async function openSession(url: string, orderId: string): Promise<void> {
  const methodData = await signParams(
    {
      service: 'mobile.securitypay.pay',
      partner: DEMO_PARTNER.partner,
      _input_charset: 'utf-8',
      notify_url: `${MERCHANT_ORIGIN}/api/notify`,
      out_trade_no: orderId,
      subject: 'Jasmine green tea, 100 g',
      payment_type: '1',
      seller_id: DEMO_PARTNER.sellerId,
      total_fee: '0.01',
    },
    { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
  )
  const response = await fetch(`${url}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({
      paymentRequestId: `pr-${orderId}`,
      merchantOrigin: MERCHANT_ORIGIN,
      methodData,
      total: { currency: 'CNY', value: '0.01' },
    }),
  })
  if (response.status !== 201) throw new Error(`[alipay] bench: session refused: ${await response.text()}`)
}
