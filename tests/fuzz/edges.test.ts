import fc from 'fast-check'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeForm, signParams, type Params } from '@alipay-payment-handler/protocol'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { createMapiClient } from '@alipay-payment-handler/gateway-client'
import {
  createOrderRoutes,
  createOrderService,
  type OrderService,
  openSqliteOrderStore,
  type OrderStore,
} from '@alipay-payment-handler/merchant'
import { createSigningServer, type SigningServer } from '@alipay-payment-handler/payment-app'
import { createMerchantApp } from '@alipay-payment-handler/demo-shop/server/app'
import { createShopOrders } from '@alipay-payment-handler/demo-shop/server/order-service-adapter'
import { openShopLedger } from '@alipay-payment-handler/demo-shop/server/shop-ledger'
import { DEMO_PARTNER, MERCHANT_KEYS } from '@alipay-payment-handler/sandbox/testing'
import {
  createSandboxApp,
  createSandboxDeps,
  demoSandboxConfig,
  type SandboxDeps,
} from '@alipay-payment-handler/sandbox'
import { assertEdge, reportCases } from './cases.js'
import { priceAsAsked } from '../support/harness.js'

/**
 * Property-based fuzzing of every edge that takes outside input. Each case must end in a typed
 * error (4xx problem, gateway error page/XML, `fail`) or a correct result: never a 500, never an
 * unhandled rejection, never a hang, never a change of money state. FUZZ_RUNS sets the number of
 * cases per edge: small in `npm test`, ≥ 10,000 in `npm run test:fuzz`.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60)
const LONG = RUNS >= 1000
// A case must answer well inside this, or it counts as a hang.
const CASE_TIMEOUT_MS = 5_000
const GATEWAY = 'http://gateway.test/gateway.do'
const APP = 'http://pay.test'
const SHOP = 'http://shop.test'

let sandboxDeps: SandboxDeps
let sandbox: Hono
let signing: SigningServer
let orderStore: OrderStore
let orders: OrderService
let orderRoutes: Hono
let shop: Hono
let shopStore: OrderStore
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => void unhandled.push(reason)

/** Everything talks to the sandbox in process: thousands of cases without sockets. */
const inProcessFetch = ((input: string | URL | Request, init?: RequestInit) =>
  sandbox.fetch(new Request(input, init))) as typeof fetch

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  sandboxDeps = createSandboxDeps(demoSandboxConfig({ dbPath: ':memory:', log: () => {} }))
  sandbox = createSandboxApp(sandboxDeps)
  signing = await createSigningServer({
    publicOrigin: APP,
    gatewayUrl: GATEWAY,
    partners: [demoPartnerConfig({ allowedOrigins: [SHOP] })],
    dbPath: ':memory:',
    logger: silentLogger(),
    fetch: inProcessFetch,
    rateLimits: false,
  })
  const client = () =>
    createMapiClient({
      gatewayUrl: GATEWAY,
      partner: DEMO_PARTNER.partner,
      keys: { ...MERCHANT_KEYS, publicKey: undefined },
      signType: 'MD5',
      fetch: inProcessFetch,
    })
  const serviceDeps = {
    partner: DEMO_PARTNER.partner,
    sellerId: DEMO_PARTNER.sellerId,
    keys: { md5Key: DEMO_PARTNER.md5Key },
    signType: 'MD5' as const,
    notifyUrl: `${SHOP}/api/notify`,
  }
  orderStore = openSqliteOrderStore(':memory:')
  orders = createOrderService({ store: orderStore, gateway: client(), ...serviceDeps })
  // As an operator: the fuzzer must reach every route, not stop at the credential check.
  orderRoutes = createOrderRoutes(orders, { priceOrder: priceAsAsked, authorizeOperator: () => true })
  shopStore = openSqliteOrderStore(':memory:')
  const shopService = createOrderService({ store: shopStore, gateway: client(), ...serviceDeps })
  shop = createMerchantApp({
    orders: createShopOrders({ service: shopService, store: shopStore, ledger: openShopLedger(':memory:') }),
    shopConfig: { appOrigin: APP, sandbox: true },
    rateLimits: false,
    authorizeOperator: () => true,
    log: () => {},
  })
  // Orders the fuzzer aims at: known ids make the cases reach deeper than "not found".
  await orders.create('target', '39.90', 'FUZZTARGET1')
  await shopService.create('target', '39.90', 'FUZZTARGET1')
})

afterAll(async () => {
  reportCases()
  process.off('unhandledRejection', onUnhandled)
  await signing.close()
  orderStore.close()
  shopStore.close()
  sandboxDeps.store.close()
})

/** Answers a request within CASE_TIMEOUT_MS, or throws "hang". */
async function answer(app: { fetch(request: Request): Response | Promise<Response> }, request: Request) {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${request.method} ${request.url}`)), CASE_TIMEOUT_MS)
  })
  try {
    const response = await Promise.race([app.fetch(request), timeout])
    const text = await response.text()
    return { status: response.status, text }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * No trade, session or order became paid or refunded, on any side. (Cancelling the unpaid target
 * through its cancel route is a correct result, not a change of money state.)
 */
async function moneyUnchanged() {
  const trades = (await (await sandbox.fetch(new Request('http://gateway.test/_sandbox/trades'))).json()) as unknown
  expect(JSON.stringify(trades)).not.toMatch(/TRADE_SUCCESS|TRADE_FINISHED/)
  expect((await orders.query('FUZZTARGET1')).status).not.toBe('success')
  expect((await orderStore.get('FUZZTARGET1'))?.refunded).toBe('0.00')
  expect((await shopStore.get('FUZZTARGET1'))?.state).not.toBe('success')
  expect((await shopStore.get('FUZZTARGET1'))?.refunded).toBe('0.00')
  expect(unhandled).toEqual([])
}

const KEYS = [
  'service',
  'partner',
  '_input_charset',
  'sign',
  'sign_type',
  'out_trade_no',
  'total_fee',
  'subject',
  'body',
  'seller_id',
  'notify_id',
  'notify_url',
  'return_url',
  'show_url',
  'trade_status',
  'trade_no',
  'it_b_pay',
  'payment_type',
  'method',
  'app_id',
  'biz_content',
  'charset',
  'timestamp',
  'version',
  '__proto__',
  'constructor',
]
const VALUES = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '',
    '0.01',
    '-1',
    '1e3',
    'NaN',
    '99999999999.99',
    'TRADE_SUCCESS',
    'create_direct_pay_by_user',
    'single_trade_query',
    'refund_fastpay_by_platform_nopwd',
    'notify_verify',
    'alipay.trade.page.pay',
    DEMO_PARTNER.partner,
    'FUZZTARGET1',
    'MD5',
    'RSA2',
    'gbk',
    'utf-8',
    'javascript:alert(1)',
    '<script>alert(1)</script>',
    '%zz',
    '%00',
    '\u0000',
    'a'.repeat(3000),
  ),
)
const PARAMS = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 12 })), VALUES, {
  maxKeys: 14,
})
/** Raw query strings: valid forms, broken escapes, duplicates. */
const RAW_QUERY = fc.oneof(
  PARAMS.map((p) => encodeForm(p)),
  fc.string({ maxLength: 400 }),
  fc
    .array(fc.tuple(fc.constantFrom(...KEYS), VALUES), { maxLength: 8 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')),
)
/** Signs with the demo partner's key (in UTF-8): the cases that get past the signature check. */
const signAsMerchant = (params: Params) =>
  signParams({ ...params, _input_charset: 'utf-8' }, { signType: 'MD5', keys: MERCHANT_KEYS })
const JSON_BODY = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }),
  fc.anything().map((v) => {
    try {
      return JSON.stringify(v) ?? 'null'
    } catch {
      return '{}'
    }
  }),
)
const SEGMENT = fc.oneof(
  fc.constantFrom('FUZZTARGET1', 'D20240101000000000001', '..', '%2e%2e', '%00', 'x'.repeat(300)),
  fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s) || 'x'),
)
// The long mode runs every case (an interrupted run would claim cases it never ran); the bounded
// one stops early on a slow machine rather than time out.
const OPTS = { numRuns: RUNS, timeout: CASE_TIMEOUT_MS * 2, ...(LONG ? {} : { interruptAfterTimeLimit: 45_000 }) }

function no500(result: { status: number; text: string }, what: string) {
  if (result.status >= 500 && result.status !== 502 && result.status !== 503) {
    throw new Error(`${what} answered ${result.status}: ${result.text.slice(0, 300)}`)
  }
}

describe('fuzzing the edges that take outside input', { timeout: LONG ? 1_800_000 : 120_000 }, () => {
  it('gateway.do (mapi and openapi, GET and POST) never answers 500 and never pays', async () => {
    await assertEdge(
      'gateway.do',
      fc.asyncProperty(
        RAW_QUERY,
        fc.constantFrom('GET', 'POST'),
        fc.constantFrom('/gateway.do', '/openapi/gateway.do'),
        fc.constantFrom('utf-8', 'gbk', ''),
        async (query, method, path, charset) => {
          const url = `http://gateway.test${path}${method === 'GET' ? `?${query}` : charset ? `?_input_charset=${charset}` : ''}`
          const init: RequestInit =
            method === 'GET'
              ? {}
              : { method, body: query, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
          no500(await answer(sandbox, new Request(url, init)), `${method} ${path}`)
        },
      ),
      OPTS,
    )
    await assertEdge(
      'gateway.do',
      fc.asyncProperty(PARAMS, async (params) => {
        const query = encodeForm(await signAsMerchant(params))
        no500(await answer(sandbox, new Request(`${GATEWAY}?${query}`)), 'signed gateway.do')
      }),
      { ...OPTS, numRuns: Math.ceil(RUNS / 4) },
    )
    await moneyUnchanged()
  })

  it('the sessions API and the return landing answer typed errors only', async () => {
    const session = fc.record(
      {
        paymentRequestId: fc.oneof(fc.string(), fc.constant('pr-1')),
        merchantOrigin: fc.oneof(fc.constant(SHOP), fc.string(), fc.webUrl()),
        methodData: fc.oneof(PARAMS, fc.anything()),
        total: fc.oneof(fc.record({ currency: fc.constantFrom('CNY', 'USD', ''), value: VALUES }), fc.anything()),
        device: fc.constantFrom('pc', 'wap', 'tv'),
      },
      { requiredKeys: [] },
    )
    await assertEdge(
      'sessions API and return landing',
      fc.asyncProperty(
        fc.oneof(
          session.map((s) => JSON.stringify(s)),
          JSON_BODY,
        ),
        SEGMENT,
        fc.constantFrom('create', 'get', 'return', 'cancel', 'abort', 'cashier', 'landing'),
        RAW_QUERY,
        async (body, id, route, query) => {
          const post = (path: string, payload: string) =>
            new Request(`${APP}${path}`, {
              method: 'POST',
              body: payload,
              headers: { 'content-type': 'application/json' },
            })
          const request =
            route === 'create'
              ? post('/api/sessions', body)
              : route === 'get'
                ? new Request(`${APP}/api/sessions/${id}?wait=0&status=${encodeURIComponent(query.slice(0, 20))}`)
                : route === 'return'
                  ? post(`/api/sessions/${id}/return`, JSON.stringify({ query }))
                  : route === 'cashier'
                    ? new Request(`${APP}/api/sessions/${id}/cashier`)
                    : route === 'landing'
                      ? new Request(`${APP}/pay/return/${id}?${query}`)
                      : post(`/api/sessions/${id}/${route}`, body)
          no500(await answer(signing.app, request), `sessions ${route}`)
        },
      ),
      OPTS,
    )
    await moneyUnchanged()
  })

  it('the order routes and the shop API answer typed errors only and move no money', async () => {
    const routes = ['', 'pay-url', 'payment-data', 'check', 'cancel', 'refund', 'confirm', 'refunds']
    await assertEdge(
      'order routes and shop API',
      fc.asyncProperty(
        fc.constantFrom(...routes),
        SEGMENT,
        JSON_BODY,
        fc.boolean(),
        async (route, id, body, toShop) => {
          const path = route === '' ? `/orders/${id}` : `/orders/${id}/${route}`
          const method = route === '' || route === 'refunds' ? 'GET' : 'POST'
          const init: RequestInit =
            method === 'GET' ? {} : { method, body, headers: { 'content-type': 'application/json' } }
          if (toShop) no500(await answer(shop, new Request(`${SHOP}/api${path}`, init)), `shop ${route}`)
          else no500(await answer(orderRoutes, new Request(`${SHOP}${path}`, init)), `orders ${route}`)
        },
      ),
      OPTS,
    )
    await assertEdge(
      'order routes and shop API',
      fc.asyncProperty(
        fc.oneof(
          JSON_BODY,
          fc.anything().map((v) => JSON.stringify({ items: v }) ?? ''),
        ),
        async (body) => {
          const request = new Request(`${SHOP}/api/checkout`, { method: 'POST', body })
          no500(await answer(shop, request), 'shop checkout')
          const create = new Request(`${SHOP}/orders`, { method: 'POST', body })
          no500(await answer(orderRoutes, create), 'orders create')
        },
      ),
      { ...OPTS, numRuns: Math.ceil(RUNS / 4) },
    )
    await moneyUnchanged()
  })

  it('every notify receiver (relay, order routes, shop) answers fail or success, never pays', async () => {
    const target = (p: Params) => ({ ...p, out_trade_no: 'FUZZTARGET1', trade_status: 'TRADE_SUCCESS' })
    await assertEdge(
      'notify receivers',
      fc.asyncProperty(
        fc.oneof(RAW_QUERY, PARAMS),
        fc.constantFrom('utf-8', 'gbk', 'latin1', 'nonsense'),
        async (rawOrParams, charset) => {
          // Raw bytes, or a notify for the target order that carries a valid merchant-key signature.
          const body =
            typeof rawOrParams === 'string' ? rawOrParams : encodeForm(await signAsMerchant(target(rawOrParams)))
          const init = () => ({
            method: 'POST',
            body,
            headers: { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
          })
          no500(await answer(signing.app, new Request(`${APP}/notify/mapi`, init())), 'relay notify')
          const routes = await answer(orderRoutes, new Request(`${SHOP}/notify`, init()))
          no500(routes, 'orders notify')
          expect(['success', 'fail']).toContain(routes.text)
          const shopNotify = await answer(shop, new Request(`${SHOP}/api/notify`, init()))
          no500(shopNotify, 'shop notify')
        },
      ),
      OPTS,
    )
    await moneyUnchanged()
  })
})
