import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  formatBeijingTime,
  md5Sign,
  renderGatewayReply,
  signParams,
  stringToSign,
  type Params,
} from '@alipay-payment-handler/protocol'
import { DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { demoPartnerConfig } from '../../../tests/support/demo-partners.js'
import { createLogger, redact } from '@alipay-payment-handler/server-runtime'
import { ConfigError, createPartnerRegistry } from '@alipay-payment-handler/gateway-client'
import { createSigningServer, type SigningServer } from './signing-server.js'
import { MERCHANT_RING, tempDir } from '../../../tests/support/harness.js'

/** msw sees the global fetch, not undici's own sockets: the components call the gateway through it here. */
const viaMsw: typeof fetch = (input, init) => globalThis.fetch(input, init)

const GATEWAY = 'http://gateway.test/gateway.do'
const ORIGIN = 'http://localhost:4100'
const BASE = 'http://pay.test'
const gateway = setupServer()
const tmp = tempDir()
const logLines: string[] = []
let server: SigningServer
let verifyAnswer: () => Response = () => new HttpResponse('true')

beforeAll(async () => {
  gateway.listen({ onUnhandledRequest: 'error' })
  server = await createSigningServer({
    publicOrigin: BASE,
    gatewayUrl: GATEWAY,
    partners: [demoPartnerConfig({ allowedOrigins: [ORIGIN] })],
    dbPath: `${tmp.dir}/signing.db`,
    logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    rateLimits: { create: { limit: 1000, windowMs: 60_000 } },
    fetch: viaMsw,
  })
})
afterEach(() => gateway.resetHandlers())
afterAll(async () => {
  gateway.close()
  await server.close()
  tmp.cleanup()
})

const call = async (path: string, init: RequestInit = {}) => {
  const response = await server.app.fetch(new Request(`${BASE}${path}`, init))
  const text = await response.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { response, status: response.status, json, text }
}
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

async function methodData(overrides: Params = {}, signType: 'MD5' | 'RSA' = 'MD5'): Promise<Params> {
  return signParams(
    {
      service: 'mobile.securitypay.pay',
      partner: DEMO_PARTNER.partner,
      _input_charset: 'utf-8',
      notify_url: `${ORIGIN}/api/notify`,
      out_trade_no: `U${Math.random().toString(36).slice(2, 12)}`,
      subject: '测试商品',
      payment_type: '1',
      total_fee: '99.90',
      ...overrides,
    },
    { signType, keys: { md5Key: MERCHANT_RING.md5Key, privateKey: DEMO_MERCHANT_RSA.privateKey } },
  )
}
const body = (data: Params, extra: Record<string, unknown> = {}) => ({
  paymentRequestId: 'pr-1',
  merchantOrigin: ORIGIN,
  methodData: data,
  total: { currency: 'CNY', value: data['total_fee'] },
  ...extra,
})

describe('POST /api/sessions', () => {
  it('re-targets a verified order to the PC cashier, re-signed, with our return and notify URLs', async () => {
    const data = await methodData({ it_b_pay: '30m', goods_type: '1' })
    const { status, json } = await post('/api/sessions', body(data, { total: { currency: 'CNY', value: '99.9' } }))
    expect(status).toBe(201)
    expect(json.form.fields).toMatchObject({
      service: 'create_direct_pay_by_user',
      return_url: `${BASE}/pay/return/${json.sessionId}`,
      notify_url: `${BASE}/notify/mapi`,
      seller_id: DEMO_PARTNER.partner,
      it_b_pay: '30m',
      goods_type: '1',
      sign_type: 'MD5',
    })
    const { sign, ...rest } = json.form.fields
    expect((await signParams(rest, { signType: 'MD5', keys: MERCHANT_RING }))['sign']).toBe(sign)
    expect(json).toMatchObject({ status: 'at_cashier', merchantOrigin: ORIGIN, totalFee: '99.90' })
  })

  it('converts an absolute it_b_pay to whole minutes', async () => {
    const at = formatBeijingTime(new Date(Date.now() + 10 * 60_000 + 30_000))
    const { status, json } = await post('/api/sessions', body(await methodData({ it_b_pay: at })))
    expect(status).toBe(201)
    expect(json.form.fields.it_b_pay).toBe('10m')
  })

  it('refuses an order signed RSA for a partner configured MD5, though it holds the RSA key too', async () => {
    const { status, json } = await post('/api/sessions', body(await methodData({}, 'RSA')))
    expect(status).toBe(400)
    expect(json).toMatchObject({ type: expect.stringMatching(/unsupported-sign-type$/), expected: 'MD5' })
  })

  it.each([
    ['a tampered order', async () => body({ ...(await methodData()), total_fee: '0.01' }), 403, 'invalid-signature'],
    ['a missing sign', async () => body({ ...(await methodData()), sign: '' }), 400, 'invalid-method-data'],
    ['an unknown partner', async () => body(await methodData({ partner: '2088999999999999' })), 403, 'unknown-partner'],
    [
      'a foreign origin',
      async () => body(await methodData(), { merchantOrigin: 'http://evil.test' }),
      403,
      'origin-not-allowed',
    ],
    [
      'a total that differs',
      async () => body(await methodData(), { total: { currency: 'CNY', value: '1.00' } }),
      400,
      'amount-mismatch',
    ],
    [
      'a float-looking total',
      async () => body(await methodData(), { total: { currency: 'CNY', value: '99.901' } }),
      400,
      'amount-invalid',
    ],
    [
      'a JSON number total',
      async () => body(await methodData(), { total: { currency: 'CNY', value: 99.9 } }),
      400,
      'invalid-request',
    ],
    [
      'another currency',
      async () => body(await methodData(), { total: { currency: 'USD', value: '99.90' } }),
      400,
      'currency-not-supported',
    ],
    [
      'an elapsed it_b_pay',
      async () => body(await methodData({ it_b_pay: '2020-01-01 00:00:00' })),
      410,
      'order-expired',
    ],
    ['another seller', async () => body(await methodData({ seller_id: '2088000000000001' })), 403, 'seller-mismatch'],
    [
      'another service',
      async () => body(await methodData({ service: 'single_trade_query' })),
      400,
      'unsupported-service',
    ],
  ])('refuses %s with a stable problem type', async (_name, make, status, code) => {
    const result = await post('/api/sessions', await make())
    expect(result.status).toBe(status)
    expect(result.response.headers.get('content-type')).toContain('application/problem+json')
    expect(result.json.type).toBe(`https://alipay-payment-handler.dev/problems/${code}`)
  })

  it('refuses a body that is not JSON', async () => {
    const result = await call('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    })
    expect(result.json.type).toMatch(/invalid-json$/)
  })
})

describe('the HTTP edge', () => {
  it('allows CORS for the partners’ merchant origins only', async () => {
    const preflight = (origin: string) =>
      call('/api/sessions', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      })
    expect((await preflight(ORIGIN)).response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect((await preflight('http://evil.test')).response.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('lets the merchant origins read cross-origin but change nothing: state changes are same-origin JSON', async () => {
    const preflight = await call('/api/sessions', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    })
    expect(preflight.response.headers.get('access-control-allow-methods')).not.toMatch(/POST/)
    const fromMerchant = await post('/api/sessions/nope/cancel', {}, { origin: ORIGIN })
    expect(fromMerchant.status).toBe(403)
    expect(fromMerchant.json.type).toMatch(/cross-site-request$/)
    // CORS answers the reads only: the refusal is not readable by the merchant page either.
    expect(fromMerchant.response.headers.get('access-control-allow-origin')).toBeNull()
    const read = await call('/api/sessions/nope', { headers: { origin: ORIGIN } })
    expect(read.response.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(read.response.headers.get('vary')).toMatch(/\bOrigin\b/)
    const own = await post('/api/sessions/nope/cancel', {}, { origin: BASE, 'sec-fetch-site': 'same-origin' })
    expect(own.json.type).toMatch(/session-not-found$/)
    const textPlain = await post('/api/sessions/nope/cancel', {}, { 'content-type': 'text/plain' })
    expect(textPlain.status).toBe(415)
  })

  it('answers only its public host (421 misdirected-host), except the health probes', async () => {
    const foreign = await server.app.fetch(new Request('http://evil.test/api/sessions/nope'))
    expect(foreign.status).toBe(421)
    expect(await foreign.json()).toMatchObject({ code: 'misdirected-host' })
    expect((await server.app.fetch(new Request('http://10.1.2.3:4200/healthz'))).status).toBe(200)
    expect((await server.app.fetch(new Request('http://10.1.2.3:4200/readyz'))).status).toBe(200)
  })

  it('puts a strict CSP on every response and answers unknown sessions with a problem', async () => {
    const result = await call('/api/sessions/nope')
    expect(result.status).toBe(404)
    expect(result.json.type).toMatch(/session-not-found$/)
    const csp = result.response.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain(`form-action 'self' http://gateway.test`)
  })

  it('rate-limits session creation per client', async () => {
    const limited = await createSigningServer({
      fetch: viaMsw,
      publicOrigin: BASE,
      gatewayUrl: GATEWAY,
      partners: [demoPartnerConfig({ allowedOrigins: [ORIGIN] })],
      dbPath: `${tmp.dir}/limited.db`,
      logger: createLogger({ write: () => {} }),
      rateLimits: { create: { limit: 2, windowMs: 60_000 } },
    })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) {
        const res = await limited.app.fetch(
          new Request(`${BASE}/api/sessions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }),
        )
        statuses.push(res.status)
      }
      expect(statuses).toEqual([400, 400, 429])
    } finally {
      await limited.close()
    }
  })

  it('serves /pay/* from the handler assets when mounted', async () => {
    const withAssets = await createSigningServer({
      fetch: viaMsw,
      publicOrigin: BASE,
      gatewayUrl: GATEWAY,
      partners: [demoPartnerConfig({ allowedOrigins: [ORIGIN] })],
      dbPath: `${tmp.dir}/assets.db`,
      logger: createLogger({ write: () => {} }),
      handlerAssets: { fetch: (req) => new Response(`asset ${new URL(req.url).pathname}`) },
    })
    try {
      const res = await withAssets.app.fetch(new Request(`${BASE}/pay/return/abc`))
      expect(await res.text()).toBe('asset /pay/return/abc')
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect((await call('/pay/checkout.html')).status).toBe(404)
    } finally {
      await withAssets.close()
    }
  })
})

describe('the notify relay', () => {
  // The order of the latest notify: the gateway is asked by trade_no, and answers for that order.
  let notifiedOrder = ''
  const notifyBody = async (outTradeNo: string, overrides: Params = {}) =>
    (notifiedOrder = outTradeNo) &&
    new URLSearchParams(
      await signParams(
        {
          notify_time: '2024-05-01 12:00:06',
          notify_type: 'trade_status_sync',
          notify_id: `n${Math.random().toString(36).slice(2)}`,
          out_trade_no: outTradeNo,
          trade_no: '2024050121001004330200123456',
          trade_status: 'TRADE_SUCCESS',
          total_fee: '99.90',
          seller_id: DEMO_PARTNER.sellerId,
          ...overrides,
        },
        { signType: 'MD5', keys: MERCHANT_RING },
      ),
    ).toString()
  const relay = (form: string) =>
    call('/notify/mapi', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })

  // The gateway's single_trade_query reply: the trade paid in full, signed with the partner's key.
  const paidTrade = (query: URLSearchParams) => {
    const trade = {
      out_trade_no: query.get('out_trade_no') ?? notifiedOrder,
      trade_no: '2024050121001004330200123456',
      trade_status: 'TRADE_SUCCESS',
      total_fee: '99.90',
      seller_id: DEMO_PARTNER.sellerId,
    }
    const sign = md5Sign(stringToSign(trade), DEMO_PARTNER.md5Key)
    return new HttpResponse(renderGatewayReply({ isSuccess: true, trade, sign, signType: 'MD5' }), {
      headers: { 'content-type': 'text/xml' },
    })
  }
  const useGateway = () =>
    gateway.use(
      http.get(GATEWAY, ({ request }) => {
        const query = new URL(request.url).searchParams
        return query.get('service') === 'single_trade_query' ? paidTrade(query) : verifyAnswer()
      }),
    )

  it('stores a verified notify once, settles the session, and answers exactly success', async () => {
    useGateway()
    verifyAnswer = () => new HttpResponse('true')
    const data = await methodData()
    const created = await post('/api/sessions', body(data))
    const form = await notifyBody(data['out_trade_no']!)
    const first = await relay(form)
    expect(first.text).toBe('success')
    expect(first.response.headers.get('content-type')).toContain('text/plain')
    // A replay after our acknowledgement: notify_verify now says false, yet it is ours already.
    verifyAnswer = () => new HttpResponse('false')
    expect((await relay(form)).text).toBe('success')
    const notifyId = new URLSearchParams(form).get('notify_id')!
    expect(await server.store.countNotifies(DEMO_PARTNER.partner, notifyId)).toBe(1)
    const view = await call(`/api/sessions/${created.json.sessionId}`)
    expect(view.json).toMatchObject({ status: 'paid', outcome: { kind: 'paid', details: { success: 'true' } } })
  })

  it('does not acknowledge a notify it could not verify or store', async () => {
    useGateway()
    const data = await methodData()
    await post('/api/sessions', body(data))
    const forged = (await notifyBody(data['out_trade_no']!)).replace('total_fee=99.90', 'total_fee=0.01')
    expect((await relay(forged)).json.type).toMatch(/invalid-signature$/)
    verifyAnswer = () => new HttpResponse('false')
    expect((await relay(await notifyBody(data['out_trade_no']!))).json.type).toMatch(/notify-not-verified$/)
    verifyAnswer = () => new HttpResponse('down', { status: 502 })
    const unavailable = await relay(await notifyBody(data['out_trade_no']!))
    expect(unavailable.status).toBe(503)
    expect(unavailable.text).not.toBe('success')
    expect((await relay(await notifyBody('NO-SUCH-ORDER', { seller_id: '2088000000000009' }))).status).toBe(404)
  })

  it('does not settle a session from a notify whose amount differs', async () => {
    useGateway()
    verifyAnswer = () => new HttpResponse('true')
    const data = await methodData()
    const created = await post('/api/sessions', body(data))
    expect((await relay(await notifyBody(data['out_trade_no']!, { total_fee: '0.01' }))).text).toBe('success')
    expect((await call(`/api/sessions/${created.json.sessionId}`)).json.status).toBe('at_cashier')
    expect(logLines.some((line) => line.includes('notify.not-applied'))).toBe(true)
  })
})

describe('configuration and logs', () => {
  it('refuses a bad PEM at start-up, naming the field but never the key', async () => {
    const bad = '-----BEGIN PRIVATE KEY-----\nTUlJQm9ndXM=\n-----END PRIVATE KEY-----'
    const error = await createPartnerRegistry([demoPartnerConfig({ privateKey: bad })]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toContain('"privateKey"')
    expect((error as Error).message).not.toContain('TUlJQm9ndXM')
    await expect(createPartnerRegistry([demoPartnerConfig({ md5Key: undefined, signType: 'MD5' })])).rejects.toThrow(
      /md5Key/,
    )
  })

  it('never prints key material', () => {
    const lines: string[] = []
    createLogger({ write: (line) => lines.push(line) }).info('x', {
      config: { md5Key: DEMO_PARTNER.md5Key, partner: DEMO_PARTNER.partner },
    })
    expect(lines[0]).not.toContain(DEMO_PARTNER.md5Key)
    expect(redact({ privateKey: 'secret', nested: [{ sign: 'abc' }] })).toEqual({
      privateKey: '[redacted]',
      nested: [{ sign: '[redacted]' }],
    })
    expect(logLines.join('\n')).not.toContain(DEMO_PARTNER.md5Key)
  })
})
