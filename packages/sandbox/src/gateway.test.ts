import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  encodeForm,
  parseGatewayReply,
  signParams,
  verifyParams,
  type Params,
  type SignType,
} from '@alipay-payment-handler/protocol'
import { createSandboxApp } from './app.js'
import { demoSandboxConfig } from './config.js'
import { DEMO_BUYER, DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from './demo-accounts.js'
import { createSandboxDeps, type SandboxDeps } from './deps.js'
import { MERCHANT_KEYS, payParams, refundParams, returnParams } from './testing.js'

const BASE = 'http://sandbox.test'
const OTHER_PARTNER = '2088000000000009'
const MD5_ONLY = '2088000000000010'
const QUERY_ONLY = '2088000000000011'

let deps: SandboxDeps
let app: ReturnType<typeof createSandboxApp>

beforeAll(() => {
  const demo = demoSandboxConfig()
  deps = createSandboxDeps(
    demoSandboxConfig({
      log: () => {},
      partners: [
        ...demo.partners,
        { partner: OTHER_PARTNER, md5Key: 'other0key0000000000000000000000x', sellerEmail: 'other@shop.example' },
        { partner: MD5_ONLY, md5Key: 'md5only0key00000000000000000000x', itBPay: false, refundable: false },
        { partner: QUERY_ONLY, rsaPublicKey: DEMO_MERCHANT_RSA.publicKey, services: ['single_trade_query'] },
      ],
    }),
  )
  app = createSandboxApp(deps)
})
afterAll(() => deps.store.close())

function keysOf(partner: string) {
  if (partner === OTHER_PARTNER) return { md5Key: 'other0key0000000000000000000000x' }
  if (partner === MD5_ONLY) return { md5Key: 'md5only0key00000000000000000000x' }
  return MERCHANT_KEYS
}

async function sign(params: Params, signType: SignType = 'MD5'): Promise<Params> {
  const full = { partner: DEMO_PARTNER.partner, _input_charset: 'utf-8', ...params }
  return signParams(full, { signType, keys: keysOf(full.partner) })
}

function get(query: string, headers: Record<string, string> = {}) {
  return app.fetch(new Request(`${BASE}/gateway.do?${query}`, { headers }))
}

/** Signs and sends; returns the gateway error code (XML or HTML) or 'OK'. */
async function codeOf(params: Params, signType: SignType = 'MD5'): Promise<string> {
  const signed = await sign(params, signType)
  const response = await get(encodeForm(signed, signed['_input_charset']))
  return readCode(response)
}

async function readCode(response: Response): Promise<string> {
  expect(response.status).toBeLessThan(500)
  if (response.status === 302) return 'OK'
  const text = await response.text()
  const html = /<meta name="alipay-error" content="([A-Z_]+)"/.exec(text)
  if (html) return html[1]!
  const reply = parseGatewayReply(text)
  return reply.isSuccess ? 'OK' : reply.error!
}

async function openTrade(
  overrides: Params = {},
  signType: SignType = 'MD5',
): Promise<{ token: string; params: Params }> {
  const params = payParams(overrides)
  const signed = await sign(params, signType)
  const response = await get(encodeForm(signed, signed['_input_charset']))
  expect(response.status).toBe(302)
  return { token: response.headers.get('location')!.split('/').pop()!, params }
}

async function pay(token: string, login: string = DEMO_BUYER.login): Promise<Response> {
  return app.fetch(
    new Request(`${BASE}/cashier/${token}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login, password: DEMO_BUYER.password }).toString(),
    }),
  )
}

describe('common request checks', () => {
  it('refuses unknown and missing services with ILLEGAL_SERVICE', async () => {
    expect(await codeOf({ service: 'alipay.trade.pay' })).toBe('ILLEGAL_SERVICE')
    expect(await readCode(await get(encodeForm({ partner: DEMO_PARTNER.partner })))).toBe('ILLEGAL_SERVICE')
  })

  it('refuses malformed and unknown partners with ILLEGAL_PARTNER', async () => {
    expect(await codeOf({ service: 'single_trade_query', trade_no: '1', partner: '12345' })).toBe('ILLEGAL_PARTNER')
    expect(await codeOf({ service: 'single_trade_query', trade_no: '1', partner: '2088999999999999' })).toBe(
      'ILLEGAL_PARTNER',
    )
  })

  it('refuses lower-case, DSA and missing sign types with ILLEGAL_SIGN_TYPE', async () => {
    for (const signType of ['md5', 'DSA', '']) {
      const signed = await sign({ service: 'single_trade_query', trade_no: '1' })
      signed['sign_type'] = signType
      expect(await readCode(await get(encodeForm(signed)))).toBe('ILLEGAL_SIGN_TYPE')
    }
  })

  it('refuses a wrong or missing signature with ILLEGAL_SIGN', async () => {
    const signed = await sign({ service: 'single_trade_query', trade_no: '1' })
    expect(await readCode(await get(encodeForm({ ...signed, sign: '0'.repeat(32) })))).toBe('ILLEGAL_SIGN')
    expect(await readCode(await get(encodeForm({ ...signed, trade_no: '2' })))).toBe('ILLEGAL_SIGN')
    const { sign: _sign, ...unsigned } = signed
    expect(await readCode(await get(encodeForm(unsigned)))).toBe('ILLEGAL_SIGN')
  })

  it('refuses sign types the partner has no key for', async () => {
    expect(await codeOf({ service: 'single_trade_query', trade_no: '1', partner: QUERY_ONLY })).toBe(
      'ILLEGAL_SECURITY_PROFILE',
    )
    const signed = await signParams(
      { service: 'single_trade_query', trade_no: '1', partner: MD5_ONLY, _input_charset: 'utf-8' },
      { signType: 'RSA', keys: MERCHANT_KEYS },
    )
    expect(await readCode(await get(encodeForm(signed)))).toBe('HAS_NO_PUBLICKEY')
  })

  it('refuses a service outside the partner contract with ILLEGAL_PARTNER_EXTERFACE', async () => {
    expect(await codeOf({ service: 'close_trade', trade_no: '1', partner: QUERY_ONLY }, 'RSA')).toBe(
      'ILLEGAL_PARTNER_EXTERFACE',
    )
    expect(await codeOf({ service: 'single_trade_query', trade_no: '1', partner: QUERY_ONLY }, 'RSA')).toBe(
      'TRADE_NOT_EXIST',
    )
  })

  it('refuses unknown charsets, undecodable bytes and conflicting repeated keys', async () => {
    const latin1 = await sign({ service: 'single_trade_query', trade_no: '1' })
    expect(await readCode(await get(encodeForm({ ...latin1, _input_charset: 'latin1' })))).toBe('ILLEGAL_CHARSET')
    expect(await readCode(await get('service=single_trade_query&_input_charset=utf-8&subject=%FF%FE'))).toBe(
      'ILLEGAL_ENCODING',
    )
    const signed = await sign({ service: 'single_trade_query', trade_no: '1' })
    expect(await readCode(await get(`${encodeForm(signed)}&trade_no=2`))).toBe('ILLEGAL_ARGUMENT')
  })

  it('refuses oversized bodies and non-form POSTs with a gateway code, not a 500', async () => {
    const huge = await app.fetch(
      new Request(`${BASE}/gateway.do?_input_charset=utf-8`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `service=single_trade_query&junk=${'a'.repeat(70 * 1024)}`,
      }),
    )
    expect(huge.status).toBe(413)
    expect(parseGatewayReply(await huge.text()).error).toBe('ILLEGAL_ARGUMENT')
    const json = await app.fetch(
      new Request(`${BASE}/gateway.do?_input_charset=utf-8`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: { nested: [[[[{}]]]] } }),
      }),
    )
    expect(await readCode(json)).toBe('ILLEGAL_ARGUMENT')
  })

  it('accepts a form POST with _input_charset in the URL', async () => {
    const signed = await sign({ service: 'single_trade_query', trade_no: '20240101210010012345678901234' })
    const response = await app.fetch(
      new Request(`${BASE}/gateway.do?_input_charset=utf-8`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: encodeForm(signed),
      }),
    )
    expect(await readCode(response)).toBe('TRADE_NOT_EXIST')
  })

  it('answers HTML error pages for page services and XML for server services', async () => {
    const page = await get(encodeForm(await sign(payParams({ total_fee: '0' }))))
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(await page.text()).toMatch(/<meta name="alipay-error" content="TOTAL_FEE_LESSEQUAL_ZERO"/)
    const xml = await get(encodeForm(await sign({ service: 'close_trade', trade_no: '1' })))
    expect(xml.headers.get('content-type')).toBe('text/xml; charset=utf-8')
  })
})

describe('pay request rules', () => {
  it.each([
    [{ subject: '' }, 'PARAMTER_IS_NULL'],
    [{ out_trade_no: '' }, 'PARAMTER_IS_NULL'],
    [{ payment_type: '2' }, 'ILLEGAL_PAYMENT_TYPE'],
    [{ total_fee: '0.00' }, 'TOTAL_FEE_LESSEQUAL_ZERO'],
    [{ total_fee: '1.001' }, 'ILLEGAL_FEE_PARAM'],
    [{ total_fee: 'abc' }, 'ILLEGAL_FEE_PARAM'],
    [{ total_fee: '100000000.01' }, 'TOTAL_FEE_OUT_OF_RANGE'],
    [{ price: '1.00', quantity: '2' }, 'ILLEGAL_FEE_PARAM'],
    [{ seller_id: '2088000000000001' }, 'SELLER_NOT_IN_SPECIFIED_SELLERS'],
    [{ seller_id: '', seller_email: 'nobody@example.com' }, 'SELLER_NOT_EXIST'],
    [{ it_b_pay: '1.5h' }, 'ILLEGAL_ARGUMENT'],
    [{ it_b_pay: '16d' }, 'ILLEGAL_ARGUMENT'],
    [{ notify_url: 'http://shop.example/n?x=1' }, 'ILLEGAL_ARGUMENT'],
    [{ extra_common_param: 'a=b' }, 'ILLEGAL_ARGUMENT'],
    [{ buyer_id: DEMO_PARTNER.sellerId }, 'BUYER_NOT_EXIST'],
    [{ buyer_id: '2088000000000002' }, 'BUYER_NOT_EXIST'],
  ])('refuses %j with %s', async (overrides, code) => {
    expect(await codeOf(payParams(overrides))).toBe(code)
  })

  it('refuses WAP requests that are not UTF-8', async () => {
    const params = payParams({ service: 'alipay.wap.create.direct.pay.by.user', _input_charset: 'gbk' })
    expect(await codeOf(params)).toBe('ILLEGAL_CHARSET')
  })

  it('refuses it_b_pay when the profile has it off', async () => {
    expect(await codeOf(payParams({ partner: MD5_ONLY, seller_id: MD5_ONLY, it_b_pay: '30m' }))).toBe(
      'SELF_TIMEOUT_NOT_SUPPORT',
    )
  })

  it('resumes an unpaid trade resubmitted with the same data, and refuses different data', async () => {
    const first = await openTrade({ body: 'b' })
    const again = await openTrade({ ...first.params, return_url: 'http://shop.example/other' })
    expect(again.token).toBe(first.token)
    expect(await codeOf({ ...first.params, total_fee: '0.02' })).toBe('TRADE_TOTALFEE_NOT_MATCH')
    expect(await codeOf({ ...first.params, total_fee: '0.010' })).toBe('ILLEGAL_FEE_PARAM')
    expect(await codeOf({ ...first.params, subject: 'other' })).toBe('TRADE_DATA_NOT_MATCH')
    expect(await codeOf({ ...first.params, body: 'c' })).toBe('TRADE_DATA_NOT_MATCH')
    expect(await codeOf({ ...first.params, buyer_email: DEMO_BUYER.login })).toBe('TRADE_BUYER_NOT_MATCH')
    expect((await pay(first.token)).status).toBe(303)
    expect(await codeOf(first.params)).toBe('OUT_TRADE_NO_EXIST')
  })

  it('accepts price × quantity and shows the total', async () => {
    const { token } = await openTrade({ total_fee: '', price: '0.02', quantity: '3' })
    const page = await (await app.fetch(new Request(`${BASE}/cashier/${token}`))).text()
    expect(page).toMatch(/<span id="amount">0\.06<\/span>/)
  })

  it('signs with GBK bytes for a GBK request, and returns GBK', async () => {
    const { token } = await openTrade({ _input_charset: 'gbk', return_url: 'http://shop.example/return' })
    const location = (await pay(token)).headers.get('location')!
    expect(location).toContain('subject=%B2%E2%CA%D4%C9%CC%C6%B7')
    const params = returnParamsIn(location, 'gbk')
    expect(params['subject']).toBe('测试商品')
    expect(await verifyParams(params, { keys: { md5Key: DEMO_PARTNER.md5Key }, charset: 'gbk' })).toMatchObject({
      ok: true,
    })
  })

  it.each(['RSA', 'RSA2'] as const)('verifies %s requests and signs the return with the gateway key', async (type) => {
    const { token } = await openTrade({ return_url: 'http://shop.example/return' }, type)
    const params = returnParams((await pay(token)).headers.get('location')!)
    expect(params['sign_type']).toBe(type)
    const keys = { publicKey: DEMO_GATEWAY_RSA.publicKey }
    expect(await verifyParams(params, { keys })).toMatchObject({ ok: true })
    expect(await verifyParams(params, { keys: { publicKey: DEMO_MERCHANT_RSA.publicKey } })).toMatchObject({
      ok: false,
    })
  })

  it('pays a non-refundable profile straight to TRADE_FINISHED', async () => {
    const { token, params } = await openTrade({ partner: MD5_ONLY, seller_id: MD5_ONLY })
    expect((await pay(token)).status).toBe(303)
    expect(deps.store.tradeByOutTradeNo(MD5_ONLY, params['out_trade_no']!)?.status).toBe('TRADE_FINISHED')
  })
})

function returnParamsIn(location: string, charset: string): Params {
  return Object.fromEntries(
    new URL(location).search
      .slice(1)
      .split('&')
      .map((pair) => {
        const [k, v] = pair.split('=') as [string, string]
        const bytes = Uint8Array.from(
          v.replace(/%([0-9A-F]{2})|./gi, (m, hex: string | undefined) =>
            String.fromCharCode(hex ? parseInt(hex, 16) : m.charCodeAt(0)),
          ),
          (c) => c.charCodeAt(0),
        )
        return [k, new TextDecoder(charset).decode(bytes)]
      }),
  )
}

describe('single_trade_query, close_trade and notify_verify', () => {
  it('needs a trade number and knows only its own partner’s trades', async () => {
    expect(await codeOf({ service: 'single_trade_query' })).toBe('PARAMTER_IS_NULL')
    expect(await codeOf({ service: 'single_trade_query', out_trade_no: 'nope' })).toBe('TRADE_NOT_EXIST')
    const { params } = await openTrade()
    expect(await codeOf({ service: 'single_trade_query', out_trade_no: params['out_trade_no']! })).toBe('OK')
    expect(
      await codeOf({ service: 'single_trade_query', out_trade_no: params['out_trade_no']!, partner: OTHER_PARTNER }),
    ).toBe('TRADE_NOT_EXIST')
  })

  it('echoes the request without sign and sign_type, and signs the trade with the request’s sign type', async () => {
    const { params } = await openTrade()
    const signed = await sign({ service: 'single_trade_query', out_trade_no: params['out_trade_no']! }, 'RSA')
    const reply = parseGatewayReply(await (await get(encodeForm(signed))).text())
    expect(reply.request).toEqual({
      service: 'single_trade_query',
      out_trade_no: params['out_trade_no'],
      partner: DEMO_PARTNER.partner,
      _input_charset: 'utf-8',
    })
    expect(reply.signType).toBe('RSA')
    expect(reply.trade).toMatchObject({ trade_status: 'WAIT_BUYER_PAY', to_seller_fee: '0.00' })
    expect(reply.trade!['buyer_id']).toBeUndefined()
  })

  it('refuses closing unknown trades and bad trade_role values', async () => {
    expect(await codeOf({ service: 'close_trade' })).toBe('PARAMTER_IS_NULL')
    expect(await codeOf({ service: 'close_trade', trade_no: '2024010121001001234567890123' })).toBe('TRADE_NOT_EXIST')
    const { params } = await openTrade()
    expect(await codeOf({ service: 'close_trade', out_trade_no: params['out_trade_no']!, trade_role: 'X' })).toBe(
      'ILLEGAL_ARGUMENT',
    )
    expect(await codeOf({ service: 'close_trade', out_trade_no: params['out_trade_no']!, trade_role: 'S' })).toBe('OK')
  })

  it('answers notify_verify with invalid, false or true', async () => {
    const verify = async (query: Params) => (await get(encodeForm({ service: 'notify_verify', ...query }))).text()
    expect(await verify({ notify_id: 'x' })).toBe('invalid')
    expect(await verify({ partner: DEMO_PARTNER.partner })).toBe('invalid')
    expect(await verify({ partner: DEMO_PARTNER.partner, notify_id: 'unknown' })).toBe('false')
    const { token } = await openTrade({ return_url: 'http://shop.example/return' })
    const id = returnParams((await pay(token)).headers.get('location')!)['notify_id']!
    expect(await verify({ partner: DEMO_PARTNER.partner, notify_id: id })).toBe('true')
    // X and decodeURIComponent(X) are the same notify id (mapi-protocol §5.2).
    expect(await verify({ partner: DEMO_PARTNER.partner, notify_id: decodeURIComponent(id) })).toBe('true')
    expect(await verify({ partner: OTHER_PARTNER, notify_id: id })).toBe('false')
    deps.advanceClock!(61_000)
    expect(await verify({ partner: DEMO_PARTNER.partner, notify_id: id })).toBe('false')
  })
})

describe('refund_fastpay_by_platform_nopwd', () => {
  async function paidTrade(total = '0.10'): Promise<string> {
    const { token, params } = await openTrade({ total_fee: total })
    expect((await pay(token)).status).toBe(303)
    return deps.store.tradeByOutTradeNo(DEMO_PARTNER.partner, params['out_trade_no']!)!.tradeNo
  }
  const now = () => deps.clock.now()

  it('checks the batch fields, first broken rule first', async () => {
    const tradeNo = await paidTrade()
    const base = refundParams(tradeNo, '0.01', now())
    const day = base['batch_no']!.slice(0, 8)
    const cases: [Params, string][] = [
      [{ batch_no: '' }, 'PARAMTER_IS_NULL'],
      [{ seller_user_id: '' }, 'PARAMTER_IS_NULL'],
      [{ seller_user_id: '2088000000000001' }, 'SELLER_INFO_NOT_EXIST'],
      [{ batch_no: `${day}000` }, 'BATCH_NO_FORMAT_ERROR'],
      [{ batch_no: '19990101001' }, 'BATCH_NO_FORMAT_ERROR'],
      [{ batch_no: `${day}ab` }, 'BATCH_NO_FORMAT_ERROR'],
      [{ refund_date: '2024-13-01 00:00:00' }, 'REFUND_DATE_ERROR'],
      [{ refund_date: '2001-01-01 00:00:00' }, 'REFUND_DATE_ERROR'],
      [{ batch_num: 'x' }, 'BATCH_NUM_ERROR'],
      [{ batch_num: '1001' }, 'BATCH_NUM_EXCEED_LIMIT'],
      [{ batch_num: '2' }, 'BATCH_NUM_NOT_EQUAL_TOTAL'],
      [{ detail_data: `${tradeNo}^0.01` }, 'DETAIL_DATA_FORMAT_ERROR'],
      [{ detail_data: `${tradeNo}^0.01^r$fee` }, 'DETAIL_DATA_FORMAT_ERROR'],
      [{ detail_data: `${tradeNo}^0.001^r` }, 'REFUND_AMOUNT_NOT_VALID'],
      [{ detail_data: `${tradeNo}^0.01^${'长'.repeat(90)}` }, 'SINGLE_DETAIL_DATA_EXCEED_LIMIT'],
      [{ batch_num: '2', detail_data: `${tradeNo}^0.01^a#${tradeNo}^0.01^b` }, 'DUBL_TRADE_NO_IN_SAME_BATCH'],
      [{ notify_url: 'ftp://x' }, 'ILLEGAL_ARGUMENT'],
    ]
    for (const [overrides, code] of cases)
      expect([overrides, await codeOf({ ...base, ...overrides })]).toEqual([overrides, code])
    expect(await codeOf(base)).toBe('OK')
    expect(await codeOf(base)).toBe('DUPLICATE_BATCH_NO')
  })

  it('reports per-trade failures in result_details and refunds the rest', async () => {
    const paid = await paidTrade('0.10')
    const { params } = await openTrade()
    const unpaid = deps.store.tradeByOutTradeNo(DEMO_PARTNER.partner, params['out_trade_no']!)!.tradeNo
    const missing = '2024010121001009999999999999'
    const detail = `${paid}^0.04^a#${unpaid}^0.01^b#${missing}^0.01^c`
    const request = refundParams(paid, '0', now(), { batch_num: '3', detail_data: detail })
    expect(await codeOf(request)).toBe('OK')
    const batch = deps.store.refundBatch(DEMO_PARTNER.partner, request['batch_no']!)!
    expect(batch.successNum).toBe(1)
    expect(batch.resultDetails).toBe(
      `${paid}^0.04^SUCCESS#${unpaid}^0.01^TRADE_STATUS_ERROR#${missing}^0.01^TRADE_NOT_EXIST`,
    )
    expect(deps.store.tradeByNo(paid)).toMatchObject({
      status: 'TRADE_SUCCESS',
      refundedFee: '0.04',
      refundStatus: 'REFUND_SUCCESS',
    })
    const over = refundParams(paid, '0.07', now())
    expect(await codeOf(over)).toBe('OK')
    expect(deps.store.refundBatch(DEMO_PARTNER.partner, over['batch_no']!)!.resultDetails).toBe(
      `${paid}^0.07^REFUND_AMOUNT_NOT_VALID`,
    )
  })
})
