import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeForm, signParams, type Params, type SignType } from '@alipay-payment-handler/protocol'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import { startMerchant, type RunningMerchant } from '@alipay-payment-handler/demo-shop/server/server'
import { DEMO_BUYER, DEMO_GATEWAY_RSA, DEMO_PARTNER, postCashierPay } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'

/** The three servers of the kit on loopback, with every log line they wrote. */
export interface SecurityStack {
  sandbox: RunningSandbox
  signing: RunningSigningServer
  merchant: RunningMerchant
  /** Every log line of the three servers, for the secrets scan. */
  logs: string[]
  dir: string
  close(): Promise<void>
}

/**
 * Starts sandbox → signing server (relay) → demo merchant on ports chosen by the OS, with fast
 * schedules, so an attack test can go through the real HTTP path in well under a second.
 */
export async function startSecurityStack(): Promise<SecurityStack> {
  const dir = mkdtempSync(join(tmpdir(), 'alipay-security-'))
  const logs: string[] = []
  const write = (line: string) => logs.push(line)
  const sandbox = await startSandbox(
    demoSandboxConfig({ port: 0, dbPath: join(dir, 'sandbox.db'), timeScale: 0.0005, log: write }),
  )
  // The merchant needs the payment app's origin for /config.json (unused here) and for the revoke
  // of a cancel, read at each cancel: the signing server starts after the merchant.
  let signingUrl = 'http://127.0.0.1:1'
  const merchant = await startMerchant({
    port: 0,
    appOrigin: 'http://127.0.0.1:1',
    paymentAppUrl: () => signingUrl,
    gatewayUrl: sandbox.gatewayUrl,
    partner: demoPartnerConfig(),
    dataDir: dir,
    logger: createLogger({ level: 'debug', write, name: 'merchant' }),
  })
  const signing = await startSigningServer({
    port: 0,
    gatewayUrl: sandbox.gatewayUrl,
    partners: [demoPartnerConfig({ allowedOrigins: [merchant.url] })],
    dbPath: join(dir, 'signing.db'),
    logger: createLogger({ level: 'debug', write, name: 'signing' }),
    pollIntervalMs: 200,
    outboxIntervalMs: 50,
    retryGapsMs: [100, 200, 400, 800],
    rateLimits: false,
    gatewayTimeoutMs: 3000,
  })
  signingUrl = signing.url
  return {
    sandbox,
    signing,
    merchant,
    logs,
    dir,
    async close() {
      await signing.close()
      await merchant.close()
      await sandbox.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The cookies the shop set, as the buyer's browser keeps them: each is sent back to its own
 * origin and path only (an order's view token reaches that order's routes only).
 */
const cookieJar: { origin: string; path: string; name: string; value: string }[] = []

function keepCookies(url: URL, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
    const eq = pair.indexOf('=')
    const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/'
    const cookie = { origin: url.origin, path, name: pair.slice(0, eq), value: pair.slice(eq + 1) }
    const at = cookieJar.findIndex((c) => c.origin === cookie.origin && c.path === path && c.name === cookie.name)
    if (at >= 0) cookieJar.splice(at, 1)
    if (!attributes.some((a) => /^max-age=0$/i.test(a))) cookieJar.push(cookie)
  }
}

function cookiesFor(url: URL): string {
  return cookieJar
    .filter((c) => c.origin === url.origin && (url.pathname === c.path || url.pathname.startsWith(`${c.path}/`)))
    .map((c) => `${c.name}=${c.value}`)
    .join('; ')
}

/** `Authorization` of the shop's operator (refunds, the order list, reconciliation). */
export function asOperator(stack: SecurityStack): Record<string, string> {
  return { authorization: `Bearer ${stack.merchant.operatorToken}` }
}

/**
 * A JSON call, as the buyer's browser makes it (with the cookies the shop set; `anonymous` for a
 * stranger without them). Answers status, content type, parsed body (or text) and headers.
 */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; anonymous?: boolean } = {},
): Promise<{ status: number; type: string; json: any; text: string; headers: Headers }> {
  const target = new URL(url)
  const cookie = init.anonymous ? '' : cookiesFor(target)
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(cookie ? { cookie } : {}),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    redirect: 'manual',
  })
  if (!init.anonymous) keepCookies(target, response)
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    json,
    text,
    headers: response.headers,
  }
}

/** A shop order of one celadon cup (39.90), priced by the server. */
export async function placeOrder(stack: SecurityStack): Promise<{ orderId: string; amount: string }> {
  const created = await call(`${stack.merchant.url}/api/checkout`, {
    body: { items: [{ productId: 'celadon-cup', quantity: 1 }] },
  })
  if (created.status !== 201) throw new Error(`checkout failed: ${created.status} ${created.text}`)
  return created.json as { orderId: string; amount: string }
}

/** The shop's signed PaymentMethodSpecificData and total for an order. */
export async function paymentData(stack: SecurityStack, orderId: string): Promise<{ data: Params; total: any }> {
  const answer = await call(`${stack.merchant.url}/api/orders/${orderId}/payment-data`, { method: 'POST' })
  if (answer.status !== 200) throw new Error(`payment-data failed: ${answer.status} ${answer.text}`)
  return answer.json as { data: Params; total: any }
}

/** POST /api/sessions as the checkout window would. */
export function createSession(stack: SecurityStack, methodData: Params, total: unknown, merchantOrigin?: string) {
  return call(`${stack.signing.url}/api/sessions`, {
    body: {
      paymentRequestId: `pr-${Math.random().toString(36).slice(2)}`,
      merchantOrigin: merchantOrigin ?? stack.merchant.url,
      methodData,
      total,
    },
  })
}

/** Opens the cashier of a created session and pays as the demo buyer; answers the return URL. */
export async function payAtCashier(cashierUrl: string): Promise<string> {
  const toCashier = await fetch(cashierUrl, { redirect: 'manual' })
  const location = toCashier.headers.get('location')
  if (toCashier.status !== 302 || !location) throw new Error(`gateway refused: ${await toCashier.text()}`)
  const paid = await postCashierPay(new URL(location, cashierUrl).toString(), DEMO_BUYER.login, DEMO_BUYER.password)
  const back = paid.headers.get('location')
  if (paid.status !== 303 || !back) throw new Error(`cashier refused: ${paid.status}`)
  return back
}

/** A whole payment: order, session, cashier, return. Answers the ids and the return URL. */
export async function payOrder(stack: SecurityStack) {
  const order = await placeOrder(stack)
  const { data, total } = await paymentData(stack, order.orderId)
  const session = await createSession(stack, data, total)
  if (session.status !== 201) throw new Error(`session refused: ${session.text}`)
  const returnUrl = await payAtCashier(session.json.cashierUrl)
  return { ...order, data, sessionId: session.json.sessionId as string, returnUrl }
}

/** The merchant's view of an order. */
export async function merchantOrder(stack: SecurityStack, orderId: string): Promise<any> {
  return (await call(`${stack.merchant.url}/api/orders/${orderId}`)).json
}

/** Waits until `check` answers a truthy value. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 8000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * Signs a parameter set as the gateway would (MD5 with the partner's key, RSA/RSA2 with the
 * sandbox gateway's test key): the attacker who somehow has a valid signature.
 */
export function gatewaySign(params: Params, signType: SignType = 'MD5'): Promise<Params> {
  return signParams(params, {
    signType,
    keys: { md5Key: DEMO_PARTNER.md5Key, privateKey: DEMO_GATEWAY_RSA.privateKey },
  })
}

/** POSTs a form-encoded notify. */
export async function postNotify(url: string, params: Params, charset = 'utf-8') {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
    body: encodeForm(params, charset),
  })
  return { status: response.status, text: await response.text() }
}

/** A notify for `orderId` as the gateway would send it, unsigned. */
export function notifyFor(orderId: string, amount: string, overrides: Params = {}): Params {
  return {
    notify_time: '2024-12-20 16:16:15',
    notify_type: 'trade_status_sync',
    notify_id: `forged${Math.random().toString(36).slice(2)}`,
    out_trade_no: orderId,
    trade_no: `2024122021001004${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
    trade_status: 'TRADE_SUCCESS',
    total_fee: amount,
    seller_id: DEMO_PARTNER.sellerId,
    seller_email: DEMO_PARTNER.sellerEmail,
    buyer_id: '2088102122524333',
    subject: 'Tea House order',
    ...overrides,
  }
}
