import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyParams, verifyTradeReply } from '@alipay-payment-handler/protocol'
import { DEMO_BUYER, DEMO_GATEWAY_RSA, DEMO_PARTNER } from './demo-accounts.js'
import { demoSandboxConfig } from './config.js'
import { startSandbox, type RunningSandbox } from './server.js'
import {
  gatewayCall,
  notifyVerify,
  openCashier,
  payParams,
  postCashierPay,
  refundParams,
  returnParams,
  sleep,
  startReceiver,
  tempDir,
  type NotifyReceiver,
} from './testing.js'

// 0.001: the first retry gap (240 s) becomes 240 ms, it_b_pay=1m becomes 60 ms.
const TIME_SCALE = 0.001
const GATEWAY_KEYS = { md5Key: DEMO_PARTNER.md5Key, publicKey: DEMO_GATEWAY_RSA.publicKey }

/** Polls `check` until it holds; fails after 5 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

describe('the HTTP-only journey', () => {
  let sandbox: RunningSandbox
  let receiver: NotifyReceiver
  const verifiedAtReceipt: string[] = []
  const tmp = tempDir()

  beforeAll(async () => {
    sandbox = await startSandbox(
      demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/journey.db`, timeScale: TIME_SCALE, log: () => {} }),
    )
    receiver = await startReceiver(async (notify) => {
      verifiedAtReceipt.push(await notifyVerify(sandbox.gatewayUrl, notify.params['notify_id']!))
    })
  })
  afterAll(async () => {
    await sandbox.close()
    await receiver.close()
    tmp.cleanup()
  })

  it('pays, returns, notifies with a retry, verifies, queries, refunds', async () => {
    const outTradeNo = `J${Date.now()}`
    const cashier = await openCashier(
      sandbox.gatewayUrl,
      payParams({ out_trade_no: outTradeNo, notify_url: receiver.url, return_url: 'http://shop.example/return' }),
    )
    const page = await (await fetch(cashier)).text()
    expect(page).toContain('id="pay"')
    expect(page).toContain('测试商品')

    // The first delivery is answered with something that is not exactly "success".
    receiver.answers.push({ status: 200, body: 'success\n' })
    const paid = await postCashierPay(cashier)
    expect(paid.status).toBe(303)
    const location = paid.headers.get('location')!
    expect(location.startsWith('http://shop.example/return?')).toBe(true)
    // The notify_id is percent-encoded inside the value, so it travels double-encoded.
    expect(location).toMatch(/notify_id=[^&]*%252F/)

    const ret = returnParams(location)
    expect(await verifyParams(ret, { keys: GATEWAY_KEYS })).toMatchObject({ ok: true })
    expect(ret).toMatchObject({
      is_success: 'T',
      exterface: 'create_direct_pay_by_user',
      out_trade_no: outTradeNo,
      trade_status: 'TRADE_SUCCESS',
      notify_type: 'trade_status_sync',
      buyer_id: DEMO_BUYER.userId,
      total_fee: '0.01',
      sign_type: 'MD5',
    })
    expect(ret['notify_id']).toContain('%2F')
    expect(await notifyVerify(sandbox.gatewayUrl, ret['notify_id']!)).toBe('true')

    const deliveries = await receiver.waitFor(2)
    // The retry waits for the scaled gap (240 ms), less the first POST's own latency on a busy machine.
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(100)
    expect(deliveries[0]!.params['notify_id']).toBe(deliveries[1]!.params['notify_id'])
    expect(deliveries[0]!.contentType).toBe('application/x-www-form-urlencoded; charset=utf-8')
    for (const d of deliveries) {
      expect(await verifyParams(d.params, { keys: GATEWAY_KEYS })).toMatchObject({ ok: true })
      expect(d.params).toMatchObject({
        trade_status: 'TRADE_SUCCESS',
        out_trade_no: outTradeNo,
        trade_no: ret['trade_no'],
      })
    }
    expect(verifiedAtReceipt.slice(0, 2)).toEqual(['true', 'true'])
    // Acknowledged: no third attempt (it would come 600 ms later), and the id no longer verifies.
    // The receiver records a delivery before it answers, so wait for the sandbox to have the answer.
    const notifyId = deliveries[0]!.params['notify_id']!
    await until(() => sandbox.deps.store.listNotifies().find((n) => n.notifyId === notifyId)?.state === 'delivered')
    await sleep(900)
    expect(receiver.received).toHaveLength(2)
    expect(await notifyVerify(sandbox.gatewayUrl, notifyId)).toBe('false')

    const query = await gatewayCall(sandbox.gatewayUrl, { service: 'single_trade_query', out_trade_no: outTradeNo })
    expect(query.isSuccess).toBe(true)
    expect(query.trade).toMatchObject({ trade_status: 'TRADE_SUCCESS', trade_no: ret['trade_no'], total_fee: '0.01' })
    expect(await verifyTradeReply(query, GATEWAY_KEYS)).toMatchObject({ ok: true })

    const refund = await gatewayCall(sandbox.gatewayUrl, {
      ...refundParams(ret['trade_no']!, '0.01'),
      notify_url: receiver.url,
    })
    expect(refund.isSuccess).toBe(true)
    const [batchNotify] = await receiver.waitFor(1, 'batch_refund_notify')
    expect(await verifyParams(batchNotify!.params, { keys: GATEWAY_KEYS })).toMatchObject({ ok: true })
    expect(batchNotify!.params).toMatchObject({
      success_num: '1',
      result_details: `${ret['trade_no']}^0.01^SUCCESS`,
    })
    const syncs = await receiver.waitFor(3, 'trade_status_sync')
    expect(syncs[2]!.params).toMatchObject({ trade_status: 'TRADE_CLOSED', refund_status: 'REFUND_SUCCESS' })
    const after = await gatewayCall(sandbox.gatewayUrl, { service: 'single_trade_query', trade_no: ret['trade_no']! })
    expect(after.trade).toMatchObject({
      trade_status: 'TRADE_CLOSED',
      refund_status: 'REFUND_SUCCESS',
      to_buyer_fee: '0.01',
    })
  })

  it('closes an unpaid trade by close_trade', async () => {
    const outTradeNo = `C${Date.now()}`
    await openCashier(sandbox.gatewayUrl, payParams({ out_trade_no: outTradeNo }))
    const closed = await gatewayCall(sandbox.gatewayUrl, { service: 'close_trade', out_order_no: outTradeNo })
    expect(closed).toMatchObject({ isSuccess: true })
    const query = await gatewayCall(sandbox.gatewayUrl, { service: 'single_trade_query', out_trade_no: outTradeNo })
    expect(query.trade).toMatchObject({ trade_status: 'TRADE_CLOSED' })
    expect(query.trade!['gmt_close']).toBeDefined()
    const again = await gatewayCall(sandbox.gatewayUrl, { service: 'close_trade', out_trade_no: outTradeNo })
    expect(again).toMatchObject({ isSuccess: false, error: 'TRADE_STATUS_NOT_AVAILD' })
  })

  it('closes an unpaid trade when its it_b_pay runs out, and the cashier then refuses it', async () => {
    const outTradeNo = `E${Date.now()}`
    const cashier = await openCashier(sandbox.gatewayUrl, payParams({ out_trade_no: outTradeNo, it_b_pay: '1m' }))
    // Closed by the scheduler itself, not only on the next read (the store is read directly).
    await until(() => sandbox.deps.store.tradeByOutTradeNo(DEMO_PARTNER.partner, outTradeNo)?.status === 'TRADE_CLOSED')
    const query = await gatewayCall(sandbox.gatewayUrl, { service: 'single_trade_query', out_trade_no: outTradeNo })
    expect(query.trade).toMatchObject({ trade_status: 'TRADE_CLOSED' })
    const pay = await postCashierPay(cashier)
    expect(await pay.text()).toMatch(/<meta name="alipay-error" content="TRADE_NOT_ALLOWED_PAY"/)
  })
})
