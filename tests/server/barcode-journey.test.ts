import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_APP, DEMO_BUYER, DEMO_GATEWAY_RSA } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { createPaymentGateway } from '@alipay-payment-handler/gateway-client'
import type { BuyerCodeStage, OrderError, PaidVia } from '@alipay-payment-handler/merchant'
import { eventually, startMerchant, tempDir, type Merchant } from '../support/harness.js'

/**
 * Journeys of the counter flows (openapi-protocol §14.1–14.3): the sandbox and a merchant's order
 * service on real loopback servers, the notifications going over HTTP to the merchant's routes.
 */
const tmp = tempDir('alipay-barcode-journey-')
let sandbox: RunningSandbox
const open: Merchant[] = []
let dbCount = 0
// Short on purpose: the flow is the seed's; only the clock of the test is faster.
const FAST = { pollIntervalMs: 20, timeLimitMs: 400 }

beforeAll(async () => {
  sandbox = await startSandbox(
    demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: 0.001, log: () => {} }),
  )
})
afterAll(async () => {
  for (const m of open) await m.close()
  await sandbox.close()
  tmp.cleanup()
})

async function counterMerchant(timeoutMs = 3000) {
  const paid: PaidVia[] = []
  const merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders-${++dbCount}.db`, {
    gateway: createPaymentGateway({
      kind: 'openapi',
      gatewayUrl: sandbox.gatewayUrl,
      appId: DEMO_APP.appId,
      privateKey: DEMO_APP.privateKey,
      publicKey: DEMO_GATEWAY_RSA.publicKey,
      sellerId: DEMO_APP.sellerId,
      timeoutMs,
    }),
    onPaid: (_order, via) => void paid.push(via),
  })
  open.push(merchant)
  return { merchant, paid }
}

async function sandboxTrade(outTradeNo: string) {
  const { trades } = (await (await fetch(`${sandbox.url}/_sandbox/trades?out_trade_no=${outTradeNo}`)).json()) as {
    trades: { tradeNo: string; status: string; refundedFee: string; service: string }[]
  }
  return trades[0]
}

describe('face-to-face barcode payment through the merchant library', () => {
  it('10000: paid at once; the notify that follows changes nothing', async () => {
    const { merchant, paid } = await counterMerchant()
    const order = await merchant.orders.create('收银 counter', '12.30')
    const result = await merchant.orders.payWithBuyerCode(order.orderId, '281000000000000001', FAST)
    expect(result.outcome).toBe('paid')
    expect(result.order).toMatchObject({ status: 'success', tradeStatus: 'TRADE_SUCCESS' })
    expect(result.order.tradeNo).toMatch(/^\d{28}$/)
    await eventually(async () => (await merchant.store.notifies(order.orderId)).length > 0)
    expect(paid).toEqual(['barcode'])
  })

  it('10003: waits for the password, queries, and is paid on the second query', async () => {
    const { merchant } = await counterMerchant()
    const order = await merchant.orders.create('password', '1.00')
    const stages: BuyerCodeStage[] = []
    const result = await merchant.orders.payWithBuyerCode(order.orderId, '281000000000003002', {
      ...FAST,
      timeLimitMs: 60_000,
      onProgress: (stage) => stages.push(stage),
    })
    expect(result.outcome).toBe('paid')
    expect(stages).toEqual(['paying', 'waiting-for-password'])
    expect((await sandboxTrade(order.orderId))!.status).toBe('TRADE_SUCCESS')
  })

  it('10003 and the buyer never confirms: cancelled at the time limit, the trade closed', async () => {
    const { merchant, paid } = await counterMerchant()
    const order = await merchant.orders.create('never', '1.00')
    const stages: BuyerCodeStage[] = []
    const result = await merchant.orders.payWithBuyerCode(order.orderId, '281000000000003000', {
      ...FAST,
      onProgress: (stage) => stages.push(stage),
    })
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'time-limit', refunded: false })
    expect(result.order.status).toBe('close')
    expect(stages).toEqual(['paying', 'waiting-for-password', 'cancelling'])
    expect((await sandboxTrade(order.orderId))!.status).toBe('TRADE_CLOSED')
    expect(paid).toEqual([])
  })

  it('10003 paid from the inspector (pay trigger) while the counter polls', async () => {
    const { merchant } = await counterMerchant()
    const order = await merchant.orders.create('inspector', '1.00')
    const pending = merchant.orders.payWithBuyerCode(order.orderId, '281000000000003000', {
      pollIntervalMs: 20,
      timeLimitMs: 60_000,
      onProgress: (stage) => {
        if (stage !== 'waiting-for-password') return
        void fetch(`${sandbox.url}/_sandbox/triggers/pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ out_trade_no: order.orderId }),
        })
      },
    })
    expect((await pending).outcome).toBe('paid')
  })

  it('aborting the wait cancels the trade, so the buyer cannot pay it afterwards', async () => {
    const { merchant } = await counterMerchant()
    const order = await merchant.orders.create('abort', '1.00')
    const controller = new AbortController()
    const result = await merchant.orders.payWithBuyerCode(order.orderId, '281000000000003000', {
      pollIntervalMs: 20,
      timeLimitMs: 60_000,
      signal: controller.signal,
      onProgress: (stage) => {
        if (stage === 'waiting-for-password') controller.abort()
      },
    })
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'aborted' })
    expect((await sandboxTrade(order.orderId))!.status).toBe('TRADE_CLOSED')
    const late = await fetch(`${sandbox.url}/_sandbox/triggers/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ out_trade_no: order.orderId }),
    })
    expect(late.status).toBe(409)
  })

  it('40004: failed with the sub-code; the order stays payable and a new code pays it', async () => {
    const { merchant } = await counterMerchant()
    const order = await merchant.orders.create('declined', '1.00')
    const failed = await merchant.orders.payWithBuyerCode(order.orderId, '281000000000004002', FAST)
    expect(failed).toMatchObject({ outcome: 'failed', code: '40004', subCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH' })
    expect(failed.order.status).toBe('wait')
    expect((await merchant.orders.payWithBuyerCode(order.orderId, '281000000000000001', FAST)).outcome).toBe('paid')
    await expect(merchant.orders.payWithBuyerCode(order.orderId, '281000000000000001', FAST)).rejects.toMatchObject({
      code: 'ORDER_STATE_CONFLICT',
    } satisfies Partial<OrderError>)
  })

  it('20000: the query finds it paid, or it stays unknown and is cancelled', async () => {
    const { merchant } = await counterMerchant()
    const paid = await merchant.orders.create('busy paid', '1.00')
    expect((await merchant.orders.payWithBuyerCode(paid.orderId, '281000000000002001', FAST)).outcome).toBe('paid')
    const unknown = await merchant.orders.create('busy unknown', '1.00')
    expect(await merchant.orders.payWithBuyerCode(unknown.orderId, '281000000000002000', FAST)).toMatchObject({
      outcome: 'cancelled',
      reason: 'time-limit',
    })
  })

  it('no reply in time: the query finds it paid, or the trade is cancelled', async () => {
    const { merchant } = await counterMerchant(300)
    const paid = await merchant.orders.create('timeout paid', '1.00')
    expect((await merchant.orders.payWithBuyerCode(paid.orderId, '281000000000009001', FAST)).outcome).toBe('paid')
    const unknown = await merchant.orders.create('timeout unknown', '1.00')
    const result = await merchant.orders.payWithBuyerCode(unknown.orderId, '281000000000009000', FAST)
    expect(result).toMatchObject({ outcome: 'cancelled' })
    expect((await sandboxTrade(unknown.orderId))!.status).toBe('TRADE_CLOSED')
  })

  it('refuses a code that is not digits before calling the gateway', async () => {
    const { merchant } = await counterMerchant()
    const order = await merchant.orders.create('bad code', '1.00')
    await expect(merchant.orders.payWithBuyerCode(order.orderId, 'not-a-code')).rejects.toMatchObject({
      code: 'AUTH_CODE_INVALID',
    })
    expect(await sandboxTrade(order.orderId)).toBeUndefined()
  })
})

describe('alipay.trade.create and the APP order string through the merchant library', () => {
  it('createTrade: a trade_no for the order; paid by the buyer, the notify pays the order', async () => {
    const { merchant, paid } = await counterMerchant()
    const order = await merchant.orders.create('JSAPI', '4.00')
    const { tradeNo } = await merchant.orders.createTrade(order.orderId, { buyerId: DEMO_BUYER.userId })
    expect((await merchant.orders.query(order.orderId)).tradeNo).toBe(tradeNo)
    const trigger = await fetch(`${sandbox.url}/_sandbox/triggers/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trade_no: tradeNo }),
    })
    expect(trigger.status).toBe(200)
    await eventually(async () => (await merchant.orders.query(order.orderId)).status === 'success')
    expect(paid).toEqual(['notify'])
  })

  it('appPayOrderString: the app page pays it, the notify pays the order', async () => {
    const { merchant } = await counterMerchant()
    const order = await merchant.orders.create('APP', '5.00')
    const { orderString } = await merchant.orders.appPayOrderString(order.orderId)
    expect(orderString).toContain('method=alipay.trade.app.pay')
    const answer = (await (
      await fetch(`${sandbox.url}/app/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          order_string: orderString,
          login: DEMO_BUYER.login,
          password: DEMO_BUYER.password,
        }).toString(),
      })
    ).json()) as { resultStatus: string }
    expect(answer.resultStatus).toBe('9000')
    await eventually(async () => (await merchant.orders.query(order.orderId)).status === 'success')
  })
})
