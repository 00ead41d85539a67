export * from './demo-accounts.js'
export * from './demo-certs.js'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  compactBeijingTime,
  decodeForm,
  encodeForm,
  formatBeijingTime,
  parseGatewayReply,
  signParams,
  type GatewayReply,
  type Params,
  type SignType,
} from '@alipay-payment-handler/protocol'
import { DEMO_BUYER, DEMO_MERCHANT_RSA, DEMO_PARTNER } from './demo-accounts.js'

/**
 * Test helpers: merchant-side signing, a real notify receiver on loopback, and a cashier driver.
 * Used by the sandbox's own tests and usable by anyone testing against the sandbox.
 */

/** The demo merchant's keys, for signing requests as the merchant would. */
export const MERCHANT_KEYS = { md5Key: DEMO_PARTNER.md5Key, privateKey: DEMO_MERCHANT_RSA.privateKey }

/** Signs merchant request parameters (adds partner and _input_charset when missing). */
export function signRequest(params: Params, signType: SignType = 'MD5', charset = 'utf-8'): Promise<Params> {
  return signParams(
    { partner: DEMO_PARTNER.partner, _input_charset: charset, ...params },
    { signType, keys: MERCHANT_KEYS },
  )
}

/** A PC pay request for the demo partner; override any field. */
export function payParams(overrides: Params = {}): Params {
  return {
    service: 'create_direct_pay_by_user',
    partner: DEMO_PARTNER.partner,
    _input_charset: 'utf-8',
    out_trade_no: `T${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    subject: '测试商品',
    payment_type: '1',
    total_fee: '0.01',
    seller_id: DEMO_PARTNER.sellerId,
    ...overrides,
  }
}

/** GETs the gateway with signed parameters, without following redirects. */
export function gatewayGet(gatewayUrl: string, params: Params, charset = 'utf-8', accept?: string): Promise<Response> {
  const headers: Record<string, string> = accept ? { accept } : {}
  return fetch(`${gatewayUrl}?${encodeForm(params, charset)}`, { redirect: 'manual', headers })
}

/** Calls a server-to-server service and parses the XML reply. */
export async function gatewayCall(
  gatewayUrl: string,
  params: Params,
  signType: SignType = 'MD5',
): Promise<GatewayReply> {
  const signed = await signRequest(params, signType, params['_input_charset'] ?? 'utf-8')
  const response = await gatewayGet(gatewayUrl, signed, signed['_input_charset'])
  return parseGatewayReply(await response.text())
}

/** notify_verify, as a merchant calls it. */
export async function notifyVerify(gatewayUrl: string, notifyId: string): Promise<string> {
  const query = encodeForm({ service: 'notify_verify', partner: DEMO_PARTNER.partner, notify_id: notifyId })
  return (await fetch(`${gatewayUrl}?${query}`)).text()
}

/** Opens a pay request and returns the cashier URL (absolute) it redirected to. */
export async function openCashier(gatewayUrl: string, params: Params, signType: SignType = 'MD5'): Promise<string> {
  const signed = await signRequest(params, signType, params['_input_charset'] ?? 'utf-8')
  const response = await gatewayGet(gatewayUrl, signed, signed['_input_charset'])
  const location = response.headers.get('location')
  if (response.status !== 302 || !location) {
    const text = await response.text()
    const code = /name="alipay-error" content="([A-Z_]+)"/.exec(text)?.[1]
    throw new Error(`pay request refused: ${response.status} ${code ?? text.slice(0, 200)}`)
  }
  return new URL(location, gatewayUrl).toString()
}

/** Posts the cashier's login form; returns the raw (unfollowed) response. */
export function postCashierPay(cashierUrl: string, login = DEMO_BUYER.login, password: string = DEMO_BUYER.password) {
  return fetch(`${cashierUrl}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, password }).toString(),
    redirect: 'manual',
  })
}

/** The return parameters of a return URL, decoded exactly once. */
export function returnParams(location: string): Params {
  return decodeForm(new URL(location).search)
}

/** A refund request for one trade, with a batch number valid today. */
export function refundParams(tradeNo: string, amount: string, now = Date.now(), overrides: Params = {}): Params {
  return {
    service: 'refund_fastpay_by_platform_nopwd',
    seller_user_id: DEMO_PARTNER.sellerId,
    refund_date: formatBeijingTime(new Date(now)),
    batch_no: `${compactBeijingTime(new Date(now)).slice(0, 8)}${String(Math.floor(Math.random() * 1e9)).padStart(9, '1')}`,
    batch_num: '1',
    detail_data: `${tradeNo}^${amount}^协商退款`,
    ...overrides,
  }
}

/** One notify the receiver got. */
export interface ReceivedNotify {
  params: Params
  /** The body as it came, byte for byte (latin1-decoded). */
  raw: string
  contentType: string
  at: number
}

/** A real HTTP notify receiver on 127.0.0.1:0 whose answers a test scripts. */
export interface NotifyReceiver {
  url: string
  received: ReceivedNotify[]
  /** Answers for the next deliveries, in order; `success` once they run out. */
  answers: { status: number; body: string }[]
  /** Resolves once `count` notifies (optionally of one notify_type) have arrived. */
  waitFor(count: number, notifyType?: string, timeoutMs?: number): Promise<ReceivedNotify[]>
  close(): Promise<void>
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('latin1')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

/** Starts a notify receiver; `onNotify` may inspect each delivery before it is answered. */
export async function startReceiver(
  onNotify?: (notify: ReceivedNotify) => Promise<void> | void,
): Promise<NotifyReceiver> {
  const received: ReceivedNotify[] = []
  const answers: { status: number; body: string }[] = []
  const server: Server = createServer((req, res) => {
    void readBody(req).then(async (raw) => {
      const contentType = req.headers['content-type'] ?? ''
      const charset = /charset=([\w-]+)/.exec(contentType)?.[1] ?? 'utf-8'
      const notify = { params: decodeForm(raw, charset), raw, contentType, at: Date.now() }
      await onNotify?.(notify)
      // Recorded after the hook, so a test that waits for N notifies also sees the hook's effects.
      received.push(notify)
      const answer = answers.shift() ?? { status: 200, body: 'success' }
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    answers,
    async waitFor(count, notifyType, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs
      const matching = () => received.filter((n) => notifyType === undefined || n.params['notify_type'] === notifyType)
      while (matching().length < count) {
        if (Date.now() > deadline) throw new Error(`waited for ${count} notifies, got ${matching().length}`)
        await new Promise((r) => setTimeout(r, 10))
      }
      return matching()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A fresh temp directory for SQLite files; `cleanup` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'alipay-sandbox-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Sleeps real time (for scaled schedules). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
