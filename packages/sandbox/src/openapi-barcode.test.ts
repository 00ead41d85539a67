import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  buildSecuritypayOrderString,
  decodeText,
  encodeForm,
  extractMemberText,
  formatBeijingTime,
  signOpenapiRequest,
  verifyOpenapiNotify,
  verifyOpenapiReply,
  verifyParams,
  verifyString,
  type Params,
} from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { DEMO_APP, DEMO_BUYER, DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from './demo-accounts.js'
import { buyerCodeBehaviour } from './openapi-barcode.js'
import { startSandbox, type RunningSandbox } from './server.js'
import { startReceiver, type NotifyReceiver } from './testing.js'

const ALIPAY_PUBLIC = { publicKey: DEMO_GATEWAY_RSA.publicKey }
let sandbox: RunningSandbox
let receiver: NotifyReceiver

beforeAll(async () => {
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => {} }))
})
afterAll(() => sandbox.close())
beforeEach(async () => {
  receiver = await startReceiver()
})
afterEach(() => receiver.close())

const orderNo = () => `BC${Date.now()}${Math.floor(Math.random() * 1e6)}`

function common(method: string, charset = 'utf-8'): Params {
  return {
    app_id: DEMO_APP.appId,
    method,
    format: 'JSON',
    charset,
    sign_type: 'RSA2',
    timestamp: formatBeijingTime(new Date()),
    version: '1.0',
  }
}

async function call(method: string, biz: Record<string, unknown>, extra: Params = {}) {
  const params = await signOpenapiRequest(
    { ...common(method), biz_content: JSON.stringify(biz), ...extra },
    DEMO_APP.privateKey,
  )
  const body = await (
    await fetch(`${sandbox.gatewayUrl}?charset=utf-8`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: encodeForm(params),
    })
  ).text()
  const reply = await verifyOpenapiReply(body, method, ALIPAY_PUBLIC)
  if (!reply.ok) throw new Error(`reply did not verify: ${reply.message} ${body}`)
  return reply.response as Record<string, string>
}

const pay = (outTradeNo: string, authCode: string, extra: Params = {}) =>
  call(
    'alipay.trade.pay',
    {
      out_trade_no: outTradeNo,
      total_amount: '3.50',
      subject: '收银台 counter',
      scene: 'bar_code',
      auth_code: authCode,
    },
    extra,
  )
const query = (outTradeNo: string) => call('alipay.trade.query', { out_trade_no: outTradeNo })

describe('buyer codes', () => {
  it('each documented code has its behaviour; malformed codes fail as invalid', () => {
    expect(buyerCodeBehaviour('281000000000000001')).toEqual({ kind: 'pay' })
    expect(buyerCodeBehaviour('281000000000003002')).toEqual({ kind: 'password', afterQueries: 2 })
    expect(buyerCodeBehaviour('281000000000003000')).toEqual({ kind: 'password', afterQueries: null })
    expect(buyerCodeBehaviour('281000000000004002')).toMatchObject({
      kind: 'fail',
      subCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH',
    })
    expect(buyerCodeBehaviour('281000000000002001')).toEqual({ kind: 'system-error', paid: true })
    expect(buyerCodeBehaviour('281000000000009000')).toEqual({ kind: 'hang', paid: false })
    expect(buyerCodeBehaviour('12345')).toMatchObject({ kind: 'fail', subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID' })
  })
})

describe('alipay.trade.pay (barcode)', () => {
  it('a plain code pays at once: 10000 with the payment fields, then the notification', async () => {
    const outTradeNo = orderNo()
    const reply = await pay(outTradeNo, '281000000000000001', { notify_url: receiver.url })
    expect(reply).toMatchObject({
      code: '10000',
      out_trade_no: outTradeNo,
      total_amount: '3.50',
      receipt_amount: '3.50',
      buyer_user_id: DEMO_BUYER.userId,
    })
    expect(reply['trade_no']).toMatch(/^\d{28}$/)
    expect(reply['gmt_payment']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.params).toMatchObject({ out_trade_no: outTradeNo, trade_status: 'TRADE_SUCCESS' })
    expect((await verifyOpenapiNotify(notify!.params, DEMO_GATEWAY_RSA.publicKey)).ok).toBe(true)
  })

  it('a password code answers 10003, stays WAIT_BUYER_PAY and is paid on the N-th query', async () => {
    const outTradeNo = orderNo()
    const reply = await pay(outTradeNo, '281000000000003002')
    expect(reply).toMatchObject({ code: '10003', msg: 'order success pay inprocess', out_trade_no: outTradeNo })
    expect(await query(outTradeNo)).toMatchObject({ trade_status: 'WAIT_BUYER_PAY' })
    expect(await query(outTradeNo)).toMatchObject({ trade_status: 'TRADE_SUCCESS', total_amount: '3.50' })
  })

  it('a password code with 000 waits for the pay trigger; cancel closes it', async () => {
    const paidLater = orderNo()
    expect((await pay(paidLater, '281000000000003000'))['code']).toBe('10003')
    expect(await query(paidLater)).toMatchObject({ trade_status: 'WAIT_BUYER_PAY' })
    const trigger = await fetch(`${sandbox.url}/_sandbox/triggers/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ out_trade_no: paidLater }),
    })
    expect(trigger.status).toBe(200)
    expect(await query(paidLater)).toMatchObject({ trade_status: 'TRADE_SUCCESS' })

    const abandoned = orderNo()
    expect((await pay(abandoned, '281000000000003000'))['code']).toBe('10003')
    expect(await call('alipay.trade.cancel', { out_trade_no: abandoned })).toMatchObject({
      code: '10000',
      action: 'close',
    })
    expect(await query(abandoned)).toMatchObject({ trade_status: 'TRADE_CLOSED' })
  })

  it('the inspector names barcode trades by their code and offers Pay while they wait', async () => {
    const outTradeNo = orderNo()
    expect((await pay(outTradeNo, '281000000000003000'))['code']).toBe('10003')
    const page = await (await fetch(`${sandbox.url}/_sandbox/inspector`)).text()
    const row = page.slice(page.indexOf(outTradeNo), page.indexOf('</tr>', page.indexOf(outTradeNo)))
    expect(row).toContain('data-kind="barcode 281000000000003000"')
    expect(row).toContain('data-trigger="pay"')
  })

  it('a failing code answers 40004 with its sub-code and leaves no trade: the same order can be scanned again', async () => {
    const outTradeNo = orderNo()
    expect(await pay(outTradeNo, '281000000000004001')).toMatchObject({
      code: '40004',
      sub_code: 'ACQ.PAYMENT_AUTH_CODE_INVALID',
    })
    expect(await query(outTradeNo)).toMatchObject({ sub_code: 'ACQ.TRADE_NOT_EXIST' })
    expect(await pay(outTradeNo, '281000000000000001')).toMatchObject({ code: '10000' })
    expect(await pay(outTradeNo, '281000000000000001')).toMatchObject({ sub_code: 'ACQ.TRADE_HAS_SUCCESS' })
  })

  it('20000 codes: the query finds the trade paid (…2001) or still waiting (…2000)', async () => {
    const paid = orderNo()
    expect(await pay(paid, '281000000000002001')).toMatchObject({ code: '20000', sub_code: 'ACQ.SYSTEM_ERROR' })
    expect(await query(paid)).toMatchObject({ trade_status: 'TRADE_SUCCESS' })
    const unknown = orderNo()
    expect(await pay(unknown, '281000000000002000')).toMatchObject({ code: '20000' })
    expect(await query(unknown)).toMatchObject({ trade_status: 'WAIT_BUYER_PAY' })
  })

  it('a hanging code holds the reply until the client gives up; the trade is there to query', async () => {
    const outTradeNo = orderNo()
    const params = await signOpenapiRequest(
      {
        ...common('alipay.trade.pay'),
        biz_content: JSON.stringify({
          out_trade_no: outTradeNo,
          total_amount: '1.00',
          subject: 'hang',
          scene: 'bar_code',
          auth_code: '281000000000009001',
        }),
      },
      DEMO_APP.privateKey,
    )
    const gaveUp = await fetch(`${sandbox.gatewayUrl}?charset=utf-8`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: encodeForm(params),
      signal: AbortSignal.timeout(300),
    }).catch((error: unknown) => error)
    expect(gaveUp).toBeInstanceOf(Error)
    expect(await query(outTradeNo)).toMatchObject({ trade_status: 'TRADE_SUCCESS' })
  })
})

describe('alipay.trade.create', () => {
  it('creates a visible WAIT_BUYER_PAY trade for the named buyer; paying it notifies', async () => {
    const outTradeNo = orderNo()
    const created = await call(
      'alipay.trade.create',
      { out_trade_no: outTradeNo, total_amount: '2.00', subject: 'JSAPI', buyer_id: DEMO_BUYER.userId },
      { notify_url: receiver.url },
    )
    expect(created).toMatchObject({ code: '10000', out_trade_no: outTradeNo })
    expect(created['trade_no']).toMatch(/^\d{28}$/)
    expect(await query(outTradeNo)).toMatchObject({ trade_status: 'WAIT_BUYER_PAY', trade_no: created['trade_no'] })
    expect(
      await call('alipay.trade.create', {
        out_trade_no: orderNo(),
        total_amount: '2.00',
        subject: 'x',
        buyer_id: '2088000000000000',
      }),
    ).toMatchObject({ code: '40004', sub_code: 'ACQ.INVALID_PARAMETER' })
    await fetch(`${sandbox.url}/_sandbox/triggers/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trade_no: created['trade_no'] }),
    })
    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.params).toMatchObject({ trade_no: created['trade_no'], trade_status: 'TRADE_SUCCESS' })
  })
})

describe('the app page (/app/pay)', () => {
  const submit = async (orderString: string) =>
    (await (
      await fetch(`${sandbox.url}/app/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          order_string: orderString,
          login: DEMO_BUYER.login,
          password: DEMO_BUYER.password,
        }).toString(),
      })
    ).json()) as { resultStatus: string; memo: string; result: string }

  it('pays an alipay.trade.app.pay order string and answers the signed app pay response', async () => {
    const outTradeNo = orderNo()
    const signed = await signOpenapiRequest(
      {
        ...common('alipay.trade.app.pay'),
        notify_url: receiver.url,
        biz_content: JSON.stringify({
          out_trade_no: outTradeNo,
          total_amount: '6.00',
          subject: 'APP',
          product_code: 'QUICK_MSECURITY_PAY',
        }),
      },
      DEMO_APP.privateKey,
    )
    const orderString = encodeForm(signed)
    const result = await submit(orderString)
    expect(result.resultStatus).toBe('9000')
    const verified = await verifyOpenapiReply(result.result, 'alipay.trade.app.pay', ALIPAY_PUBLIC)
    expect(verified).toMatchObject({ ok: true, response: { code: '10000', out_trade_no: outTradeNo } })
    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.params).toMatchObject({ out_trade_no: outTradeNo, trade_status: 'TRADE_SUCCESS' })
    expect((await submit(orderString.replace('6.00', '0.01'))).resultStatus).toBe('4000')
  })

  it('pays a mobile.securitypay.pay order string; the mapi notify verifies with the gateway key', async () => {
    const outTradeNo = orderNo()
    const orderString = await buildSecuritypayOrderString(
      {
        partner: DEMO_PARTNER.partner,
        seller_id: DEMO_PARTNER.partner,
        out_trade_no: outTradeNo,
        subject: 'APP mapi',
        body: 'b',
        total_fee: '0.30',
        notify_url: receiver.url,
        service: 'mobile.securitypay.pay',
        payment_type: '1',
        _input_charset: 'utf-8',
      },
      DEMO_MERCHANT_RSA.privateKey,
    )
    const result = await submit(orderString)
    expect(result).toMatchObject({ resultStatus: '9000', memo: '' })
    expect(result.result).toContain('&success="true"&sign_type="RSA"&sign="')
    const content = result.result.slice(0, result.result.indexOf('&sign_type="RSA"'))
    const sign = decodeURIComponent(/&sign="([^"]*)"$/.exec(result.result)![1]!)
    expect((await verifyString(content, sign, 'RSA', ALIPAY_PUBLIC)).ok).toBe(true)
    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.params).toMatchObject({ out_trade_no: outTradeNo, trade_status: 'TRADE_SUCCESS' })
    expect((await verifyParams(notify!.params, { keys: ALIPAY_PUBLIC })).ok).toBe(true)
    // A changed amount no longer verifies.
    expect((await submit(orderString.replace('total_fee="0.30"', 'total_fee="0.01"'))).resultStatus).toBe('4000')
  })

  it('shows a form to paste an order string into', async () => {
    const page = await (await fetch(`${sandbox.url}/app/pay`)).text()
    expect(page).toContain('id="order-string"')
  })
})

describe('charset=GBK', () => {
  it('answers in GBK labelled GBK, signed over the GBK bytes; notifications are GBK too', async () => {
    const outTradeNo = orderNo()
    const method = 'alipay.trade.pay'
    const params = await signOpenapiRequest(
      {
        ...common(method, 'GBK'),
        notify_url: receiver.url,
        biz_content: JSON.stringify({
          out_trade_no: outTradeNo,
          total_amount: '1.20',
          subject: '中文商品',
          scene: 'bar_code',
          auth_code: '281000000000000001',
        }),
      },
      DEMO_APP.privateKey,
    )
    const response = await fetch(`${sandbox.gatewayUrl}?charset=GBK`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=GBK' },
      body: encodeForm(params, 'gbk'),
    })
    expect(response.headers.get('content-type')).toBe('application/json;charset=GBK')
    const bytes = new Uint8Array(await response.arrayBuffer())
    const text = decodeText(bytes, 'gbk')
    const member = extractMemberText(text, 'alipay_trade_pay_response')!
    expect(JSON.parse(member)).toMatchObject({ code: '10000', out_trade_no: outTradeNo })
    const sign = (JSON.parse(text) as { sign: string }).sign
    expect((await verifyString(member, sign, 'RSA2', ALIPAY_PUBLIC, 'gbk')).ok).toBe(true)

    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.contentType).toMatch(/charset=gbk/i)
    expect(notify!.params).toMatchObject({ charset: 'gbk', subject: '中文商品' })
    expect((await verifyOpenapiNotify(notify!.params, DEMO_GATEWAY_RSA.publicKey)).ok).toBe(true)
  })
})
