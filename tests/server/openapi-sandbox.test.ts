import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEMO_APP,
  DEMO_BUYER,
  DEMO_GATEWAY_RSA,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createPaymentGateway } from '@alipay-payment-handler/gateway-client'
import type { OrderError, OrderServiceDeps, PaidVia } from '@alipay-payment-handler/merchant'
import { eventually, startMerchant, tempDir, type Merchant } from '../support/harness.js'

const tmp = tempDir('alipay-openapi-sandbox-')
let sandbox: RunningSandbox
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

/** A merchant whose order service talks openapi to the sandbox as DEMO_APP. */
async function openapiMerchant(options: { fetch?: typeof fetch; overrides?: Partial<OrderServiceDeps> } = {}) {
  const paid: PaidVia[] = []
  const merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders-${++dbCount}.db`, {
    gateway: createPaymentGateway({
      kind: 'openapi',
      gatewayUrl: sandbox.gatewayUrl,
      appId: DEMO_APP.appId,
      privateKey: DEMO_APP.privateKey,
      publicKey: DEMO_GATEWAY_RSA.publicKey,
      sellerId: DEMO_APP.sellerId,
      timeoutMs: 3000,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    }),
    onPaid: (_order, via) => void paid.push(via),
    ...options.overrides,
  })
  open.push(merchant)
  return { merchant, paid }
}

/** Scans a precreate qr_code as the test payer and pays on the phone page. */
async function scanAndPay(qrCode: string) {
  const scan = await fetch(qrCode, { redirect: 'manual' })
  expect(scan.status).toBe(302)
  const code = new URL(scan.headers.get('location')!, qrCode).searchParams.get('code')!
  const paid = await fetch(`${sandbox.url}/phone/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, login: DEMO_BUYER.login, password: DEMO_BUYER.password }).toString(),
  })
  expect(paid.status).toBe(200)
}

async function sandboxTrade(outTradeNo: string) {
  const { trades } = (await (await fetch(`${sandbox.url}/_sandbox/trades?out_trade_no=${outTradeNo}`)).json()) as {
    trades: { refundedFee: string; status: string }[]
  }
  return trades[0]
}

describe('the order service on the sandbox openapi mode', () => {
  it('create → PRE_PAY qr_code → the phone pays → notify → the order is paid once', async () => {
    const { merchant, paid } = await openapiMerchant()
    const order = await merchant.orders.create('扫码 QR', '8.88')
    const { payUrl, qrCode } = await merchant.orders.getPayUrl(order.orderId, 'PRE_PAY')
    expect(payUrl).toMatch(new RegExp(`^${sandbox.url}/qr/[0-9a-f]{32}$`))
    expect(qrCode).toMatch(/^data:image\/png;base64,/)
    // Not scanned yet: the trade does not exist, and the order waits.
    expect((await merchant.orders.check(order.orderId)).status).toBe('wait')

    await scanAndPay(payUrl)
    const view = await eventually(async () => {
      const current = await merchant.orders.query(order.orderId)
      return current.status === 'success' ? current : undefined
    })
    expect(view).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', tradeNo: expect.stringMatching(/^\d{28}$/) })
    expect((await merchant.store.notifies(order.orderId)).map((n) => n.outcome)).toEqual(['paid'])
    expect(await merchant.orders.check(order.orderId)).toMatchObject({
      status: 'success',
      tradeStatus: 'TRADE_SUCCESS',
    })
    expect(paid).toEqual(['notify'])
  })

  it('refunds once although the first reply was lost: the retry reuses out_request_no', async () => {
    let loseNextRefundReply = false
    const lossyFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const body = typeof init?.body === 'string' ? init.body : ''
      if (loseNextRefundReply && body.includes('method=alipay.trade.refund&')) {
        loseNextRefundReply = false
        // The gateway did the refund; its answer never reaches us.
        throw new DOMException('The operation timed out.', 'TimeoutError')
      }
      return response
    }
    // Notifies go elsewhere, so only the retry can settle the refund here.
    const { merchant } = await openapiMerchant({ fetch: lossyFetch, overrides: { notifyUrl: blackHole.url } })
    const order = await merchant.orders.create('x', '2.00')
    await scanAndPay((await merchant.orders.getPayUrl(order.orderId, 'PRE_PAY')).payUrl)
    expect((await merchant.orders.check(order.orderId)).status).toBe('success')

    loseNextRefundReply = true
    const lost = await merchant.orders.refund(order.orderId, '0.50', '协商退款').then(
      () => undefined,
      (e: unknown) => e as OrderError,
    )
    expect(lost?.details).toMatchObject({ reason: 'GATEWAY_TIMEOUT', retryable: true })
    const refundNo = String(lost?.details['refundNo'])
    expect((await merchant.orders.refunds(order.orderId))[0]).toMatchObject({ batchNo: refundNo, state: 'pending' })
    expect((await sandboxTrade(order.orderId))?.refundedFee).toBe('0.50')

    const retried = await merchant.orders.refund(order.orderId, '0.50', '协商退款', refundNo)
    expect(retried).toMatchObject({ batchNo: refundNo, amount: '0.50', state: 'success' })
    expect((await sandboxTrade(order.orderId))?.refundedFee).toBe('0.50')
    expect((await merchant.orders.query(order.orderId)).refunded).toBe('0.50')

    const second = await merchant.orders.refund(order.orderId, '1.50', 'rest')
    expect(second.state).toBe('success')
    expect(await sandboxTrade(order.orderId)).toMatchObject({ refundedFee: '2.00', status: 'TRADE_CLOSED' })
    // Fully refunded: closed at the gateway, paid and refunded here; reconciliation agrees.
    const report = await merchant.orders.reconcile()
    expect(report).toMatchObject({ checked: 1, repaired: [], needsHuman: [], errors: [] })
  })

  it('cancels an unscanned QR order with alipay.trade.cancel, so the code can no longer be paid', async () => {
    const { merchant } = await openapiMerchant()
    const order = await merchant.orders.create('x', '1.00')
    const { payUrl } = await merchant.orders.getPayUrl(order.orderId, 'PRE_PAY')
    expect((await merchant.orders.cancel(order.orderId)).status).toBe('close')
    const scan = await fetch(payUrl)
    expect(await scan.text()).not.toContain('name="password"')
    expect((await merchant.orders.query(order.orderId)).status).toBe('close')
  })

  it('reconciles a lost openapi notify the same way as on mapi', async () => {
    const { merchant, paid } = await openapiMerchant({ overrides: { notifyUrl: blackHole.url } })
    const order = await merchant.orders.create('x', '3.00')
    await scanAndPay((await merchant.orders.getPayUrl(order.orderId, 'PRE_PAY')).payUrl)
    await eventually(() => blackHole.received.some((n) => n.params['out_trade_no'] === order.orderId))
    expect((await merchant.orders.query(order.orderId)).status).toBe('wait')
    const report = await merchant.orders.reconcile()
    expect(report.repaired).toEqual([
      expect.objectContaining({ orderId: order.orderId, action: 'MARK_PAID', tradeStatus: 'TRADE_SUCCESS' }),
    ])
    expect(paid).toEqual(['reconcile'])
  })
})
