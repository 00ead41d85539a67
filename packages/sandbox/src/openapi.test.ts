import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  decodeForm,
  encodeForm,
  extractMemberText,
  formatBeijingTime,
  signOpenapiRequest,
  verifyOpenapiNotify,
  verifyOpenapiReply,
  verifyString,
} from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { DEMO_APP, DEMO_BUYER, DEMO_GATEWAY_RSA } from './demo-accounts.js'
import { startSandbox, type RunningSandbox } from './server.js'
import { postCashierPay, startReceiver, type NotifyReceiver } from './testing.js'

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

const orderNo = () => `OA${Date.now()}${Math.floor(Math.random() * 1e6)}`

/** Common parameters plus biz_content, signed as the app (sign_type kept in the string). */
function signed(method: string, biz: Record<string, unknown>, extra: Record<string, string> = {}) {
  return signOpenapiRequest(
    {
      app_id: DEMO_APP.appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: formatBeijingTime(new Date()),
      version: '1.0',
      biz_content: JSON.stringify(biz),
      ...extra,
    },
    DEMO_APP.privateKey,
  )
}

/** A server-to-server call as the official SDKs make it: common parameters in the URL, biz_content in the body. */
async function post(params: Record<string, string>, path = '/gateway.do'): Promise<string> {
  const { biz_content: biz, ...common } = params
  const response = await fetch(`${sandbox.url}${path}?${encodeForm(common)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
    body: biz === undefined ? '' : encodeForm({ biz_content: biz }),
  })
  expect(response.headers.get('content-type')).toBe('application/json;charset=utf-8')
  return response.text()
}

/** Calls a method and returns the verified response object. */
async function call(method: string, biz: Record<string, unknown>, extra: Record<string, string> = {}) {
  const body = await post(await signed(method, biz, extra))
  const reply = await verifyOpenapiReply(body, method, ALIPAY_PUBLIC)
  if (!reply.ok) throw new Error(`reply did not verify: ${reply.message} ${body}`)
  expect(reply.unescapedSlashes).toBe(false)
  return reply.response as Record<string, string>
}

describe('openapi mode', () => {
  it('precreate → the phone pays → notify → query → idempotent refund → refund query', async () => {
    const outTradeNo = orderNo()
    const created = await call(
      'alipay.trade.precreate',
      { out_trade_no: outTradeNo, total_amount: '8.88', subject: '扫码 QR' },
      { notify_url: receiver.url },
    )
    expect(created).toMatchObject({ code: '10000', msg: 'Success', out_trade_no: outTradeNo })
    expect(created['qr_code']).toMatch(new RegExp(`^${sandbox.url}/qr/[0-9a-f]{32}$`))
    // Not scanned yet: the trade does not exist at the gateway.
    expect(await call('alipay.trade.query', { out_trade_no: outTradeNo })).toMatchObject({
      code: '40004',
      sub_code: 'ACQ.TRADE_NOT_EXIST',
    })

    const scan = await fetch(created['qr_code']!, { redirect: 'manual' })
    expect(scan.status).toBe(302)
    const code = new URL(scan.headers.get('location')!, sandbox.url).searchParams.get('code')!
    expect((await call('alipay.trade.query', { out_trade_no: outTradeNo }))['trade_status']).toBe('WAIT_BUYER_PAY')
    const paid = await fetch(`${sandbox.url}/phone/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code, login: DEMO_BUYER.login, password: DEMO_BUYER.password }).toString(),
    })
    expect(paid.status).toBe(200)

    const [notify] = await receiver.waitFor(1)
    const n = notify!.params
    expect(await verifyOpenapiNotify(n, DEMO_GATEWAY_RSA.publicKey)).toMatchObject({ ok: true })
    expect(n).toMatchObject({
      notify_type: 'trade_status_sync',
      app_id: DEMO_APP.appId,
      out_trade_no: outTradeNo,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '8.88',
      sign_type: 'RSA2',
      buyer_id: DEMO_BUYER.userId,
      seller_id: DEMO_APP.sellerId,
    })
    expect(n['notify_id']).toMatch(/^\d{34}$/)
    expect(JSON.parse(n['fund_bill_list']!)).toEqual([{ amount: '8.88', fundChannel: 'ALIPAYACCOUNT' }])
    expect(Object.values(n)).not.toContain('')
    // sign_type is not part of the notification's signed string.
    expect(await verifyOpenapiNotify({ ...n, sign_type: 'RSA' }, DEMO_GATEWAY_RSA.publicKey)).toMatchObject({
      ok: false,
    })

    const queried = await call('alipay.trade.query', { out_trade_no: outTradeNo })
    expect(queried).toMatchObject({ code: '10000', trade_status: 'TRADE_SUCCESS', trade_no: n['trade_no'] })
    expect(queried['buyer_logon_id']).toBe('buy***@demo.example')

    const refund = { out_trade_no: outTradeNo, refund_amount: '1.00', out_request_no: 'R1' }
    const first = await call('alipay.trade.refund', refund)
    expect(first).toMatchObject({ code: '10000', fund_change: 'Y', refund_fee: '1.00' })
    const retry = await call('alipay.trade.refund', refund)
    expect(retry).toMatchObject({ code: '10000', fund_change: 'N', refund_fee: '1.00' })
    expect(await call('alipay.trade.refund', { ...refund, refund_amount: '2.00' })).toMatchObject({
      code: '40004',
      sub_code: 'ACQ.DISCORDANT_REPEAT_REQUEST',
    })
    expect(await call('alipay.trade.refund', { out_trade_no: outTradeNo, refund_amount: '1.00' })).toMatchObject({
      sub_code: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL',
    })
    const [, refundNotify] = await receiver.waitFor(2)
    expect(await verifyOpenapiNotify(refundNotify!.params, DEMO_GATEWAY_RSA.publicKey)).toMatchObject({ ok: true })
    expect(refundNotify!.params).toMatchObject({ trade_status: 'TRADE_SUCCESS', refund_fee: '1.00', out_biz_no: 'R1' })
    expect(receiver.received).toHaveLength(2)

    expect(
      await call('alipay.trade.fastpay.refund.query', { out_trade_no: outTradeNo, out_request_no: 'R1' }),
    ).toMatchObject({
      code: '10000',
      out_request_no: 'R1',
      refund_amount: '1.00',
      total_amount: '8.88',
      refund_status: 'REFUND_SUCCESS',
    })
    const unknown = await call('alipay.trade.fastpay.refund.query', { out_trade_no: outTradeNo, out_request_no: 'R9' })
    expect(unknown.code).toBe('10000')
    expect(unknown['refund_status']).toBeUndefined()
    expect(await call('alipay.trade.cancel', { out_trade_no: outTradeNo })).toMatchObject({
      code: '10000',
      action: 'refund',
      retry_flag: 'N',
    })
    expect((await call('alipay.trade.query', { out_trade_no: outTradeNo }))['trade_status']).toBe('TRADE_CLOSED')
  })

  it('page.pay → cashier → signed return with exactly the openapi-protocol §7 fields; close and cancel', async () => {
    const outTradeNo = orderNo()
    const params = await signed(
      'alipay.trade.page.pay',
      {
        out_trade_no: outTradeNo,
        total_amount: 99.99,
        subject: '商品 Product',
        product_code: 'FAST_INSTANT_TRADE_PAY',
      },
      { notify_url: receiver.url, return_url: 'http://shop.example/return?from=alipay' },
    )
    const opened = await fetch(`${sandbox.gatewayUrl}?${encodeForm(params)}`, { redirect: 'manual' })
    expect(opened.status).toBe(302)
    const cashier = new URL(opened.headers.get('location')!, sandbox.url).toString()
    // Created only at the payer's login (openapi-protocol §5.1).
    expect((await call('alipay.trade.close', { out_trade_no: outTradeNo }))['sub_code']).toBe('ACQ.TRADE_NOT_EXIST')
    const paid = await postCashierPay(cashier)
    expect(paid.status).toBe(303)
    const location = paid.headers.get('location')!
    expect(location.startsWith('http://shop.example/return?from=alipay&')).toBe(true)
    expect(location).toContain('timestamp=20')
    expect(location).toMatch(/timestamp=\d{4}-\d\d-\d\d\+\d\d%3A/)
    const ret = decodeForm(new URL(location).search)
    const { from: _from, ...fields } = ret
    expect(Object.keys(fields).sort()).toEqual(
      [
        'app_id',
        'auth_app_id',
        'charset',
        'method',
        'out_trade_no',
        'seller_id',
        'sign',
        'sign_type',
        'timestamp',
        'total_amount',
        'trade_no',
        'version',
      ].sort(),
    )
    expect(fields).toMatchObject({ method: 'alipay.trade.page.pay.return', total_amount: '99.99' })
    // The merchant verifies what it received, its own `from` included, as one parameter set.
    const { from: _ignored, ...signedPart } = ret
    expect(await verifyOpenapiNotify(signedPart, DEMO_GATEWAY_RSA.publicKey)).toMatchObject({ ok: true })
    const [notify] = await receiver.waitFor(1)
    expect(notify!.params['trade_status']).toBe('TRADE_SUCCESS')
    expect((await call('alipay.trade.close', { out_trade_no: outTradeNo }))['sub_code']).toBe('ACQ.TRADE_STATUS_ERROR')
    // A resubmission of a paid order is an error page.
    const again = await fetch(`${sandbox.gatewayUrl}?${encodeForm(params)}`, { redirect: 'manual' })
    expect(await again.text()).toContain('content="ACQ.TRADE_HAS_SUCCESS"')
  })

  it('precreate that is never scanned can be cancelled: action close', async () => {
    const outTradeNo = orderNo()
    await call('alipay.trade.precreate', { out_trade_no: outTradeNo, total_amount: '1', subject: 'x' })
    expect(await call('alipay.trade.cancel', { out_trade_no: outTradeNo })).toMatchObject({
      code: '10000',
      action: 'close',
      retry_flag: 'N',
    })
    expect(
      await call('alipay.trade.precreate', { out_trade_no: outTradeNo, total_amount: '1', subject: 'x' }),
    ).toMatchObject({ sub_code: 'ACQ.TRADE_HAS_CLOSE' })
  })

  it('checks requests in the order of openapi-protocol §10.2 with the real code and sub_code', async () => {
    const method = 'alipay.trade.query'
    const biz = { out_trade_no: 'X1' }
    const reply = async (params: Record<string, string>, path?: string) => {
      const body = await post(params, path)
      return { body, json: JSON.parse(body) as Record<string, Record<string, string> & { sign?: string }> }
    }
    const base = await signed(method, biz)
    const resign = async (change: Record<string, string>) =>
      signOpenapiRequest({ ...base, ...change, sign: '' }, DEMO_APP.privateKey)

    const { sign: _s, ...unsigned } = base
    const missing = await reply(unsigned)
    expect(missing.json['alipay_trade_query_response']).toMatchObject({
      code: '40001',
      msg: 'Missing Required Arguments',
      sub_code: 'isv.missing-signature',
    })
    expect((await verifyOpenapiReply(missing.body, method, ALIPAY_PUBLIC)).ok).toBe(true)
    const { timestamp: _t, ...noTime } = base
    expect((await reply(noTime)).json['alipay_trade_query_response']!['sub_code']).toBe('isv.missing-timestamp')

    const badMethod = await reply(await resign({ method: 'alipay.trade.nope' }))
    expect(badMethod.json).toEqual({
      error_response: expect.objectContaining({ code: '40002', sub_code: 'isv.invalid-method' }),
    })
    expect(badMethod.json['sign']).toBeUndefined()
    // An unknown app: under the method's own key, unsigned (the gateway has no key to sign for it).
    const badApp = await reply(await resign({ app_id: '2021000000000000' }))
    expect(badApp.json).toEqual({
      alipay_trade_query_response: {
        code: '40002',
        msg: 'Invalid Arguments',
        sub_code: 'isv.invalid-app-id',
        sub_msg: expect.any(String),
      },
    })
    const sub = async (change: Record<string, string>) =>
      (await reply(await resign(change))).json['alipay_trade_query_response']!
    expect(await sub({ sign_type: 'RSA' })).toMatchObject({ code: '40002', sub_code: 'isv.invalid-signature-type' })
    // The charset check comes before the signature, so an unsigned change is enough here.
    const latin1 = (await reply({ ...base, charset: 'latin1' })).json['alipay_trade_query_response']!
    expect(latin1['sub_code']).toBe('isv.invalid-charset')
    expect((await sub({ charset: 'UTF-8' }))['code']).toBe('40004') // any case is fine; then X1 does not exist
    expect((await sub({ format: 'xml' }))['sub_code']).toBe('isv.invalid-format')
    expect((await sub({ version: '2.0' }))['sub_code']).toBe('isv.invalid-parameter')
    const stale = formatBeijingTime(new Date(Date.now() - 16 * 60_000))
    expect((await sub({ timestamp: stale }))['sub_code']).toBe('isv.invalid-timestamp')
    expect((await sub({ biz_content: '[1]' }))['sub_code']).toBe('isv.invalid-parameter')
    expect(await sub({ biz_content: '{}' })).toMatchObject({ code: '40004', sub_code: 'ACQ.INVALID_PARAMETER' })

    // A signature made without sign_type in the string (the notify rule) is refused, quoting the string.
    const forged = await reply({ ...base, subject: 'added after signing' })
    const refused = forged.json['alipay_trade_query_response']!
    expect(refused).toMatchObject({ code: '40002', sub_code: 'isv.invalid-signature' })
    expect(refused['sub_msg']).toContain('&amp;sign_type=RSA2&amp;subject=added after signing')

    // A key sent twice with different values, query and body.
    const twice = await fetch(`${sandbox.gatewayUrl}?${encodeForm({ ...base, biz_content: '{}' })}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encodeForm({ biz_content: base['biz_content']! }),
    })
    expect(JSON.parse(await twice.text())['error_response']).toMatchObject({
      code: '40002',
      sub_code: 'isv.invalid-parameter',
    })

    // Page methods answer HTML; mapi requests at the openapi-only endpoint are isv.missing-method.
    const page = await signed('alipay.trade.page.pay', { out_trade_no: 'P', total_amount: '1', subject: 's' })
    const html = await (await fetch(`${sandbox.gatewayUrl}?${encodeForm({ ...page, sign: base['sign']! })}`)).text()
    expect(html).toContain('<meta name="alipay-error" content="isv.invalid-signature"')
    expect(html).toContain('<meta name="alipay-error-code" content="40002"')
    const mapi = await reply({ service: 'single_trade_query', partner: '2088101122136241' }, '/openapi/gateway.do')
    expect(mapi.json['error_response']).toMatchObject({ code: '40001', sub_code: 'isv.missing-method' })
  })

  it('writes / as \\/ and signs those exact bytes: only the raw text verifies', async () => {
    const body = await post(
      await signed('alipay.trade.precreate', { out_trade_no: orderNo(), total_amount: '0.01', subject: 'slash' }),
    )
    expect(body).toContain('"qr_code":"http:\\/\\/127.0.0.1:')
    const raw = extractMemberText(body, 'alipay_trade_precreate_response')!
    const { sign } = JSON.parse(body) as { sign: string }
    expect((await verifyString(raw, sign, 'RSA2', ALIPAY_PUBLIC)).ok).toBe(true)
    const reserialised = JSON.stringify(JSON.parse(raw))
    expect(reserialised).not.toContain('\\/')
    expect((await verifyString(reserialised, sign, 'RSA2', ALIPAY_PUBLIC)).ok).toBe(false)
    const verified = await verifyOpenapiReply(body, 'alipay.trade.precreate', ALIPAY_PUBLIC)
    expect(verified).toMatchObject({ ok: true, unescapedSlashes: false, signedText: raw })
  })
})

describe('triggers on openapi trades', () => {
  it('scan, refund and finish an openapi WAP trade: notifications follow the WAP table', async () => {
    const outTradeNo = orderNo()
    const params = await signed(
      'alipay.trade.wap.pay',
      { out_trade_no: outTradeNo, total_amount: '3.00', subject: 'wap', product_code: 'QUICK_WAP_WAY' },
      { notify_url: receiver.url },
    )
    expect((await fetch(`${sandbox.gatewayUrl}?${encodeForm(params)}`, { redirect: 'manual' })).status).toBe(302)
    const trigger = async (name: string, body: Record<string, unknown>) =>
      (
        await fetch(`${sandbox.url}/_sandbox/triggers/${name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json() as Promise<{ ok: boolean; trade: { status: string } }>
    // Each notification is signed and delivered concurrently with the next trigger, so wait for
    // one before causing the next: their order at the receiver is otherwise not defined.
    expect((await trigger('pay', { out_trade_no: outTradeNo })).trade.status).toBe('TRADE_SUCCESS')
    await receiver.waitFor(1)
    expect((await trigger('refund', { out_trade_no: outTradeNo, amount: '1.00' })).trade.status).toBe('TRADE_SUCCESS')
    await receiver.waitFor(2)
    expect((await trigger('finish', { out_trade_no: outTradeNo })).trade.status).toBe('TRADE_FINISHED')
    const notes = await receiver.waitFor(3)
    for (const note of notes)
      expect(await verifyOpenapiNotify(note.params, DEMO_GATEWAY_RSA.publicKey)).toMatchObject({ ok: true })
    expect(notes.map((x) => [x.params['trade_status'], x.params['refund_fee'] ?? null])).toEqual([
      ['TRADE_SUCCESS', null],
      ['TRADE_SUCCESS', '1.00'],
      ['TRADE_FINISHED', '1.00'],
    ])
    expect(notes[1]!.params['out_biz_no']).toMatch(/^SANDBOX\d+$/)
  })
})
