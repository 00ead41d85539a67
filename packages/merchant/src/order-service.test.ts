import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeForm, signParams, type Params } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER, postCashierPay } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { OrderError } from './order-errors.js'
import { eventually, MERCHANT_RING, startMerchant, tempDir, type Merchant } from '../../../tests/support/harness.js'

const tmp = tempDir()
let sandbox: RunningSandbox
let merchant: Merchant
/** A second merchant that trusts notifies on their signature alone, for the store-level cases. */
let offline: Merchant
const logLines: string[] = []

beforeAll(async () => {
  sandbox = await startSandbox(
    demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: 0.001, log: () => {} }),
  )
  merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders.db`)
  const { createLogger } = await import('@alipay-payment-handler/server-runtime')
  offline = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/offline.db`, {
    confirmWithGateway: false,
    logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
  })
})
afterAll(async () => {
  await merchant.close()
  await offline.close()
  await sandbox.close()
  tmp.cleanup()
})

/** Pays a pay URL at the sandbox cashier as the demo buyer. */
async function pay(payUrl: string) {
  const toCashier = await fetch(payUrl, { redirect: 'manual' })
  expect(toCashier.status).toBe(302)
  const paid = await postCashierPay(new URL(toCashier.headers.get('location')!, payUrl).toString())
  expect(paid.status).toBe(303)
}

/** A notify as the gateway signs it (MD5: the key is shared). */
function gatewayNotify(orderId: string, overrides: Params = {}): Promise<Params> {
  return signParams(
    {
      notify_time: '2024-05-01 12:00:06',
      notify_type: 'trade_status_sync',
      notify_id: `n${Math.random().toString(36).slice(2)}`,
      out_trade_no: orderId,
      trade_no: `2024050121001004330${Math.floor(Math.random() * 1e9)}`,
      trade_status: 'TRADE_SUCCESS',
      total_fee: '9.90',
      seller_id: DEMO_PARTNER.sellerId,
      gmt_payment: '2024-05-01 12:00:04',
      ...overrides,
    },
    { signType: 'MD5', keys: MERCHANT_RING },
  )
}

const postNotify = (url: string, params: Params) =>
  fetch(`${url}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  })

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (e instanceof OrderError ? e.code : String(e)),
  )

describe('the order service', () => {
  it('creates orders with generated or given ids, amounts as canonical decimal strings', async () => {
    const generated = await merchant.orders.create('VIP', '99.9')
    expect(generated).toMatchObject({ subject: 'VIP', amount: '99.90', status: 'wait', tradeStatus: null })
    expect(generated.orderId).toMatch(/^D\d{32}$/)
    expect(merchant.orders.generateOrderId()).toMatch(/^D\d{32}$/)
    const given = await merchant.orders.create('MacBook', '8999.00', 'CUSTOM_ORDER_001')
    expect(given.orderId).toBe('CUSTOM_ORDER_001')
  })

  it('draws another id when a generated one is taken, and never overwrites the order that has it', async () => {
    const drawn = ['TAKEN_1', 'TAKEN_1', 'FRESH_1', 'TAKEN_1', 'TAKEN_1', 'TAKEN_1', 'TAKEN_1', 'TAKEN_1']
    const colliding = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/colliding.db`, {
      newOrderId: () => drawn.shift() ?? 'TAKEN_1',
    })
    try {
      const first = await colliding.orders.create('first', '1.00')
      expect(first.orderId).toBe('TAKEN_1')
      // The second order's first draw collides: it gets the next id, the first order is untouched.
      const second = await colliding.orders.create('second', '2.00')
      expect(second.orderId).toBe('FRESH_1')
      // Every draw collides: a typed error after a few tries, still no overwrite.
      expect(await code(colliding.orders.create('third', '3.00'))).toBe('ORDER_EXISTS')
      expect(await colliding.orders.query('TAKEN_1')).toMatchObject({ subject: 'first', amount: '1.00' })
      expect(await colliding.orders.query('FRESH_1')).toMatchObject({ subject: 'second', amount: '2.00' })
    } finally {
      await colliding.close()
    }
  })

  it('refuses float amounts, bad amounts, bad ids and duplicates with stable codes', async () => {
    expect(await code(merchant.orders.create('x', 99.99 as unknown as string))).toBe('AMOUNT_INVALID')
    expect(await code(merchant.orders.create('x', '1.234'))).toBe('AMOUNT_INVALID')
    expect(await code(merchant.orders.create('x', '0'))).toBe('AMOUNT_INVALID')
    expect(await code(merchant.orders.create('x', '1', 'bad id!'))).toBe('ORDER_ID_INVALID')
    expect(await code(merchant.orders.create('', '1'))).toBe('SUBJECT_INVALID')
    await merchant.orders.create('x', '1', 'DUP-1')
    expect(await code(merchant.orders.create('x', '1', 'DUP-1'))).toBe('ORDER_EXISTS')
    expect(await code(merchant.orders.query('NOPE'))).toBe('ORDER_NOT_EXIST')
  })

  it('answers the HTTP routes with problem+json, refusing a JSON number amount with AMOUNT_INVALID', async () => {
    const response = await fetch(`${merchant.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'x', amount: 99.99 }),
    })
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    expect(await response.json()).toMatchObject({
      code: 'AMOUNT_INVALID',
      type: expect.stringMatching(/amount-invalid$/),
    })
    const missing = await fetch(`${merchant.url}/orders/NOPE`, { headers: merchant.operator })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ code: 'ORDER_NOT_EXIST' })
    const created = await fetch(`${merchant.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'x', amount: '1.50' }),
    })
    expect(created.status).toBe(201)
  })

  it('gives PRE_PAY/pc a pay link with a QR image and WAP_PAY/mobile a form, and refuses unknown pay types', async () => {
    const order = await merchant.orders.create('测试商品', '0.01')
    const qr = await merchant.orders.getPayUrl(order.orderId, 'PRE_PAY')
    expect(qr.payUrl.startsWith(sandbox.gatewayUrl)).toBe(true)
    expect(qr.qrCode).toMatch(/^data:image\/png;base64,/)
    expect(decodeForm(new URL(qr.payUrl).search)).toMatchObject({
      service: 'create_direct_pay_by_user',
      total_fee: '0.01',
    })
    expect((await merchant.orders.getPayUrl(order.orderId, 'pc')).qrCode).toBeDefined()
    const wap = await merchant.orders.getPayUrl(order.orderId, 'mobile')
    expect(wap.form).toContain('value="alipay.wap.create.direct.pay.by.user"')
    expect(wap.form).toContain("document.forms['alipaysubmit'].submit()")
    expect((await merchant.orders.getPayUrl(order.orderId, 'WAP_PAY')).form).toBeDefined()
    expect(await code(merchant.orders.getPayUrl(order.orderId, 'BANK'))).toBe('UNKNOWN_PAY_TYPE')
    expect(await code(merchant.orders.getPayUrl('NOPE', 'PRE_PAY'))).toBe('ORDER_NOT_EXIST')
  })

  it('signs PaymentMethodSpecificData for a PaymentRequest', async () => {
    const order = await merchant.orders.create('测试商品', '12.5')
    const { data, total } = await merchant.orders.paymentData(order.orderId)
    expect(total).toEqual({ currency: 'CNY', value: '12.50' })
    expect(data).toMatchObject({
      service: 'mobile.securitypay.pay',
      partner: DEMO_PARTNER.partner,
      total_fee: '12.50',
      sign_type: 'MD5',
    })
    const { sign: _s, ...unsigned } = data
    const resigned = await signParams(unsigned as Params, { signType: 'MD5', keys: MERCHANT_RING })
    expect(resigned['sign']).toBe(data.sign)
  })

  it('checks a paid order at the gateway, refunds part of it, and refuses over-refunds and cancels', async () => {
    const order = await merchant.orders.create('测试商品', '0.10')
    expect((await merchant.orders.check(order.orderId)).status).toBe('wait')
    await pay((await merchant.orders.getPayUrl(order.orderId, 'PRE_PAY')).payUrl)
    const checked = await merchant.orders.check(order.orderId)
    expect(checked).toMatchObject({ status: 'success', tradeStatus: 'TRADE_SUCCESS' })
    expect(checked.tradeNo).toBeTruthy()
    expect(await code(merchant.orders.getPayUrl(order.orderId, 'PRE_PAY'))).toBe('ORDER_STATE_CONFLICT')
    expect(await code(merchant.orders.cancel(order.orderId))).toBe('ORDER_STATE_CONFLICT')
    expect(await code(merchant.orders.cancelThird(order.orderId))).toBe('ORDER_STATE_CONFLICT')

    const refund = await merchant.orders.refund(order.orderId, '0.04', '协商退款')
    expect(refund).toMatchObject({ amount: '0.04', state: 'submitted' })
    expect(refund.batchNo).toMatch(/^\d{8}[0-9]{12}$/)
    expect((await merchant.orders.query(order.orderId)).refunded).toBe('0.04')
    expect(await code(merchant.orders.refund(order.orderId, '0.07', 'too much'))).toBe('REFUND_AMOUNT_EXCEEDED')
    expect(await code(merchant.orders.refund(order.orderId, 0.01 as unknown as string, 'float'))).toBe('AMOUNT_INVALID')
    // The batch_refund_notify settles it (delivered to the refund notify_url when one is configured).
  })

  it('refuses to refund an unpaid order', async () => {
    const order = await merchant.orders.create('x', '1')
    expect(await code(merchant.orders.refund(order.orderId, '1', 'r'))).toBe('ORDER_STATE_CONFLICT')
  })

  it('cancels locally and at the gateway, idempotently', async () => {
    const order = await merchant.orders.create('测试商品', '0.01')
    // Never reached the cashier: the gateway has no trade, and the order still closes.
    expect((await merchant.orders.cancel(order.orderId)).status).toBe('close')
    expect((await merchant.orders.cancel(order.orderId)).status).toBe('close')

    const opened = await merchant.orders.create('测试商品', '0.01')
    await fetch((await merchant.orders.getPayUrl(opened.orderId, 'PRE_PAY')).payUrl, { redirect: 'manual' })
    expect(await merchant.orders.cancelThird(opened.orderId)).toBe('success')
    expect((await merchant.orders.checkThird((await merchant.store.get(opened.orderId))!))['trade_status']).toBe(
      'TRADE_CLOSED',
    )
    expect((await merchant.orders.query(opened.orderId)).status).toBe('close')
  })

  it('marks an order paid from the real notify, confirmed with the gateway, answering exactly success', async () => {
    const order = await merchant.orders.create('测试商品', '0.01')
    await pay((await merchant.orders.getPayUrl(order.orderId, 'WAP_PAY')).payUrl)
    const paid = await eventually(async () => {
      const view = await merchant.orders.query(order.orderId)
      return view.status === 'success' ? view : undefined
    })
    expect(paid.payTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    const notifies = await merchant.store.notifies(order.orderId)
    expect(notifies.map((n) => n.outcome)).toEqual(['paid'])
  })

  it('does not mark paid a notify whose amount differs from the order, and logs it', async () => {
    const order = await offline.orders.create('x', '9.90')
    const response = await postNotify(offline.url, await gatewayNotify(order.orderId, { total_fee: '0.01' }))
    expect(await response.text()).toBe('success')
    expect((await offline.orders.query(order.orderId)).status).toBe('wait')
    expect(logLines.some((l) => l.includes('"notify.rejected"') && l.includes('AMOUNT_MISMATCH'))).toBe(true)
  })

  it('records a notify for an unknown order without creating anything', async () => {
    const result = await offline.orders.notify(await gatewayNotify('UNKNOWN-ORDER'))
    expect(result).toMatchObject({ ack: 'success', outcome: 'rejected', code: 'ORDER_NOT_EXIST' })
    expect(await code(offline.orders.query('UNKNOWN-ORDER'))).toBe('ORDER_NOT_EXIST')
  })

  it('answers fail to a notify with a bad signature', async () => {
    const order = await offline.orders.create('x', '9.90')
    const forged = { ...(await gatewayNotify(order.orderId)), total_fee: '9.90', trade_no: 'forged' }
    const response = await postNotify(offline.url, forged)
    expect(await response.text()).toBe('fail')
    expect((await offline.orders.query(order.orderId)).status).toBe('wait')
  })

  it('processes a replayed notify once, and two concurrent notifies for one order once', async () => {
    const order = await offline.orders.create('x', '9.90')
    const notify = await gatewayNotify(order.orderId)
    expect(await offline.orders.notify(notify)).toMatchObject({ ack: 'success', outcome: 'paid' })
    expect(await offline.orders.notify(notify)).toMatchObject({ ack: 'success', outcome: 'duplicate' })

    const racing = await offline.orders.create('x', '9.90')
    const a = await gatewayNotify(racing.orderId)
    const b = await gatewayNotify(racing.orderId, { trade_no: a['trade_no']!, trade_status: 'TRADE_FINISHED' })
    const answers = await Promise.all([
      postNotify(offline.url, a),
      postNotify(offline.url, b),
      postNotify(offline.url, a),
    ])
    expect(await Promise.all(answers.map((r) => r.text()))).toEqual(['success', 'success', 'success'])
    const outcomes = (await offline.store.notifies(racing.orderId)).map((n) => n.outcome).sort()
    expect(outcomes).toEqual(['paid', 'updated'])
    expect((await offline.orders.query(racing.orderId)).status).toBe('success')
  })

  it('closes the order on a TRADE_CLOSED notify', async () => {
    const order = await offline.orders.create('x', '9.90')
    expect(
      await offline.orders.notify(await gatewayNotify(order.orderId, { trade_status: 'TRADE_CLOSED' })),
    ).toMatchObject({
      outcome: 'closed',
    })
    expect(await offline.orders.query(order.orderId)).toMatchObject({ status: 'close', tradeStatus: 'TRADE_CLOSED' })
  })

  it('times an unpaid order out locally after its deadline', async () => {
    let now = Date.now()
    const timed = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/timed.db`, { now: () => now, orderTtlMs: 60_000 })
    try {
      const order = await timed.orders.create('x', '1')
      now += 61_000
      expect((await timed.orders.query(order.orderId)).status).toBe('timeout')
      expect(await code(timed.orders.paymentData(order.orderId))).toBe('ORDER_STATE_CONFLICT')
    } finally {
      await timed.close()
    }
  })

  it('confirms only a verified, matching, paid AlipayPaymentResponse', async () => {
    const order = await offline.orders.create('x', '9.90')
    const details = { ...(await gatewayNotify(order.orderId)), success: 'true' }
    expect(await code(offline.orders.confirm(order.orderId, { ...details, total_fee: '0.01' }))).toBe(
      'INVALID_SIGNATURE',
    )
    expect(await code(offline.orders.confirm(order.orderId, { ...details, success: 'false' }))).toBe(
      'PAYMENT_NOT_SUCCESSFUL',
    )
    const other = await offline.orders.create('x', '9.90')
    expect(await code(offline.orders.confirm(other.orderId, details))).toBe('ORDER_MISMATCH')
    const cheap = { ...(await gatewayNotify(order.orderId, { total_fee: '0.01' })), success: 'true' }
    expect(await code(offline.orders.confirm(order.orderId, cheap))).toBe('AMOUNT_MISMATCH')
    expect((await offline.orders.confirm(order.orderId, details)).status).toBe('success')
  })
})
