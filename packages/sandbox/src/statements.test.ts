import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  encodeForm,
  formatBeijingTime,
  parseStatement,
  signOpenapiRequest,
  verifyOpenapiReply,
  type StatementRow,
} from '@alipay-payment-handler/protocol'
import { demoSandboxConfig } from './config.js'
import { DEMO_APP, DEMO_BUYER, DEMO_GATEWAY_RSA } from './demo-accounts.js'
import { startSandbox, type RunningSandbox } from './server.js'

let sandbox: RunningSandbox
let offsetMs = 0

beforeAll(async () => {
  // The clock jumps ahead below; requests are signed with the jumped time anyway.
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => {}, openapiTimestampToleranceSeconds: 0 }))
})
afterAll(() => sandbox.close())

async function call(method: string, biz: Record<string, unknown>) {
  const params = await signOpenapiRequest(
    {
      app_id: DEMO_APP.appId,
      method,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: formatBeijingTime(new Date(Date.now() + offsetMs)),
      version: '1.0',
      biz_content: JSON.stringify(biz),
    },
    DEMO_APP.privateKey,
  )
  const body = await (
    await fetch(`${sandbox.url}/gateway.do`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
      body: encodeForm(params),
    })
  ).text()
  const reply = await verifyOpenapiReply(body, method, { publicKey: DEMO_GATEWAY_RSA.publicKey })
  if (!reply.ok) throw new Error(`reply did not verify: ${body}`)
  return reply.response as Record<string, string>
}

async function advance(seconds: number) {
  const res = await fetch(`${sandbox.url}/_sandbox/clock/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seconds }),
  })
  expect(res.status).toBe(200)
  offsetMs += seconds * 1000
}

async function payQr(outTradeNo: string, amount: string) {
  const created = await call('alipay.trade.precreate', {
    out_trade_no: outTradeNo,
    total_amount: amount,
    subject: '账单测试',
  })
  const scan = await fetch(created['qr_code']!, { redirect: 'manual' })
  const code = new URL(scan.headers.get('location')!, created['qr_code']).searchParams.get('code')!
  await fetch(`${sandbox.url}/phone/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, login: DEMO_BUYER.login, password: DEMO_BUYER.password }).toString(),
  })
}

async function rows(url: string): Promise<StatementRow[]> {
  const res = await fetch(url)
  expect(res.headers.get('content-type')).toBe('application/zip')
  const out: StatementRow[] = []
  for await (const row of parseStatement(res.body!)) out.push(row)
  return out
}

const METHOD = 'alipay.data.dataservice.bill.downloadurl.query'

describe('alipay.data.dataservice.bill.downloadurl.query', () => {
  it('refuses a bad bill_type or bill_date, and a day that has not ended', async () => {
    const today = formatBeijingTime(new Date(Date.now() + offsetMs)).slice(0, 10)
    expect(await call(METHOD, { bill_type: 'fund', bill_date: today })).toMatchObject({
      code: '40004',
      sub_code: 'isv.invalid-arguments',
    })
    expect(await call(METHOD, { bill_type: 'trade', bill_date: '2026-02-30' })).toMatchObject({
      sub_code: 'isv.invalid-arguments',
    })
    expect(await call(METHOD, { bill_type: 'trade', bill_date: today })).toMatchObject({
      code: '40004',
      sub_code: 'isp.bill_not_exist',
    })
  })

  it("serves the day's payments and refunds as a zip the protocol parser reads, for a short while", async () => {
    const paidAt = Date.now() + offsetMs
    const day = formatBeijingTime(new Date(paidAt)).slice(0, 10)
    const a = `ST${Date.now()}A`
    const b = `ST${Date.now()}B`
    await payQr(a, '10.00')
    await payQr(b, '0.99')
    expect(
      await call('alipay.trade.refund', { out_trade_no: a, refund_amount: '2.50', out_request_no: 'RF1' }),
    ).toMatchObject({
      code: '10000',
      fund_change: 'Y',
    })
    await advance(25 * 3600)

    const reply = await call(METHOD, { bill_type: 'trade', bill_date: day })
    expect(reply).toMatchObject({ code: '10000', msg: 'Success' })
    const url = reply['bill_download_url']!
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/downloadBillFile\.resource\?bizType=trade&/)
    const trade = await rows(url)
    const details = trade.filter((r) => r.kind === 'trade-detail').map((r) => r.row)
    expect(details.filter((r) => r.outTradeNo === a || r.outTradeNo === b)).toEqual([
      expect.objectContaining({ outTradeNo: a, businessType: '交易', orderAmount: '10.00', receiptAmount: '10.00' }),
      expect.objectContaining({ outTradeNo: b, businessType: '交易', receiptAmount: '0.99', subject: '账单测试' }),
      expect.objectContaining({ outTradeNo: a, businessType: '退款', receiptAmount: '-2.50', refundRequestNo: 'RF1' }),
    ])
    expect(trade.find((r) => r.kind === 'trade-detail')?.account).toBe(DEMO_APP.sellerId)
    expect(trade.filter((r) => r.kind === 'summary')).toHaveLength(1)

    const ledger = await rows((await call(METHOD, { bill_type: 'signcustomer', bill_date: day }))['bill_download_url']!)
    expect(ledger.filter((r) => r.kind === 'account-detail').map((r) => r.row.outTradeNo)).toEqual(
      expect.arrayContaining([a, b]),
    )
    // The month has not ended; a past month has a statement (an empty one here).
    expect(await call(METHOD, { bill_type: 'trade', bill_date: day.slice(0, 7) })).toMatchObject({
      sub_code: 'isp.bill_not_exist',
    })
    const lastYear = `${Number(day.slice(0, 4)) - 1}-${day.slice(5, 7)}`
    const empty = await rows((await call(METHOD, { bill_type: 'trade', bill_date: lastYear }))['bill_download_url']!)
    expect(empty.filter((r) => r.kind === 'trade-detail')).toEqual([])

    // An altered link and an expired one are both gone.
    expect((await fetch(url.replace('bizType=trade', 'bizType=signcustomer'))).status).toBe(404)
    await advance(31)
    expect((await fetch(url)).status).toBe(404)
  })
})
