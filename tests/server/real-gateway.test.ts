import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Real-gateway mode: the three bins in processes of their own (`alipay-sandbox` as the external
 * gateway, `alipay-payment-app`, the demo shop's server), nothing replaced in process. Every POST
 * route gets bodies as proxies and clients send them, chunked, gzip-encoded and slow, and must
 * answer what the body deserves: 2xx, or a 4xx with a typed body, never a 5xx.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BINS = {
  sandbox: join(ROOT, 'packages/sandbox/src/cli.ts'),
  app: join(ROOT, 'packages/payment-app/src/cli.ts'),
  shop: join(ROOT, 'apps/demo-shop/server/main.ts'),
}
const OURS =
  /^(ALIPAY_|PORT$|HOST$|PUBLIC_ORIGIN$|SIGNING_SERVER_DB$|LOG_LEVEL$|TRUSTED_PROXIES$|MERCHANT_|APP_ORIGIN$|DATA_DIR$)/

let dir: string
const children: ChildProcess[] = []

/** Starts a bin through tsx with the source condition; resolves the first match of `ready` in its output. */
function startBin(file: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<RegExpExecArray> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OURS.test(name)))
  const child = spawn(
    process.execPath,
    ['--conditions=@alipay-payment-handler/source', '--import', 'tsx', file, ...args],
    {
      cwd: dir,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(child)
  let output = ''
  return new Promise((resolve, reject) => {
    const read = (chunk: string) => {
      output += chunk
      const match = ready.exec(output)
      if (match) resolve(match)
    }
    child.stdout!.setEncoding('utf8').on('data', read)
    child.stderr!.setEncoding('utf8').on('data', read)
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}:\n${output}`)))
  })
}

let gatewayUrl: string
let shop: string
let operatorToken: string
let app: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alipay-real-gateway-'))
  gatewayUrl = (
    await startBin(BINS.sandbox, ['--port', '0', '--db', join(dir, 'sandbox.db'), '--quiet'], {}, /gateway\s+(\S+)/)
  )[1]!
  const shopReady = await startBin(
    BINS.shop,
    [],
    { PORT: '0', ALIPAY_GATEWAY_URL: gatewayUrl, DATA_DIR: dir, APP_ORIGIN: 'http://127.0.0.1:1' },
    /Orders page \(operator\): (\S+)\/orders\.html#operator=(\S+)/,
  )
  shop = shopReady[1]!
  operatorToken = shopReady[2]!
  app = (
    await startBin(
      BINS.app,
      ['--port', '0', '--db', join(dir, 'signing.db')],
      {
        ALIPAY_GATEWAY_URL: gatewayUrl,
        ALIPAY_PARTNER: '2088101122136241',
        ALIPAY_MD5_KEY: 'demo0md5key0for0local0tests00001',
        ALIPAY_ALLOWED_ORIGINS: shop,
      },
      /listening on (\S+)/,
    )
  )[1]!
}, 120_000)

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

type Shape = 'chunked' | 'gzip' | 'slow'

/** POSTs `body` in the given shape over a socket of its own; answers status, content type and text. */
function post(
  url: string,
  contentType: string,
  body: string,
  shape: Shape,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; text: string }> {
  const target = new URL(url)
  const payload = shape === 'gzip' ? gzipSync(body) : Buffer.from(body)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': contentType,
          origin: target.origin,
          ...(shape === 'gzip' ? { 'content-encoding': 'gzip', 'content-length': String(payload.length) } : {}),
          ...(shape === 'chunked' || shape === 'slow' ? { 'transfer-encoding': 'chunked' } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text }))
      },
    )
    req.on('error', reject)
    void (async () => {
      const piece = shape === 'slow' ? 3 : 7
      for (let i = 0; i < payload.length; i += piece) {
        req.write(payload.subarray(i, i + piece))
        if (shape === 'slow') await new Promise((r) => setTimeout(r, 15))
      }
      req.end()
    })()
  })
}

const JSON_TYPE = 'application/json'
const FORM = 'application/x-www-form-urlencoded; charset=utf-8'

describe('real-gateway mode: the bins as separate processes', () => {
  it('every POST route answers chunked, gzip and slow bodies with a typed answer, never a 5xx', async () => {
    const checkout = await post(
      `${shop}/api/checkout`,
      JSON_TYPE,
      '{"items":[{"productId":"tea-sachet","quantity":1}]}',
      'chunked',
    )
    expect(checkout.status, checkout.text).toBe(201)
    const order = JSON.parse(checkout.text) as { orderId: string; viewToken: string }
    const buyer = { 'order-view-token': order.viewToken }
    const operator = { authorization: `Bearer ${operatorToken}` }
    const routes: [string, string, string, Record<string, string>][] = [
      [`${shop}/api/checkout`, JSON_TYPE, '{"items":[{"productId":"tea-sachet","quantity":1}]}', {}],
      [`${shop}/api/orders/${order.orderId}/payment-data`, JSON_TYPE, '{}', buyer],
      [`${shop}/api/orders/${order.orderId}/pay-url`, JSON_TYPE, '{"payType":"PRE_PAY"}', buyer],
      [`${shop}/api/orders/${order.orderId}/confirm`, JSON_TYPE, '{"details":{}}', buyer],
      [`${shop}/api/orders/${order.orderId}/check`, JSON_TYPE, '{}', buyer],
      [`${shop}/api/orders/${order.orderId}/refund`, JSON_TYPE, '{"amount":"0.01"}', operator],
      [`${shop}/api/reconciliation`, JSON_TYPE, '{}', operator],
      [`${shop}/api/operator/login`, JSON_TYPE, '{"token":"nope"}', {}],
      [`${shop}/api/notify`, FORM, 'notify_id=x&out_trade_no=y', {}],
      [`${app}/api/sessions`, JSON_TYPE, '{"paymentRequestId":"pr-1"}', {}],
      [`${app}/api/sessions/nope/return`, JSON_TYPE, '{"query":"a=b"}', {}],
      [`${app}/api/sessions/nope/cancel`, JSON_TYPE, '{"reason":"buyer"}', {}],
      [`${app}/api/sessions/nope/abort`, JSON_TYPE, '{}', {}],
      [`${app}/notify/mapi`, FORM, 'notify_id=x&out_trade_no=y', {}],
      [`${app}/notify/openapi`, FORM, 'notify_id=x&out_trade_no=y', {}],
      [`${shop}/api/orders/${order.orderId}/cancel`, JSON_TYPE, '{}', buyer],
    ]
    for (const shape of ['chunked', 'gzip', 'slow'] as const) {
      for (const [url, type, body, headers] of routes) {
        const answer = await post(url, type, body, shape, headers)
        const what = `${shape} POST ${new URL(url).pathname}: ${answer.status} ${answer.text}`
        expect(answer.status, what).toBeLessThan(500)
        expect(answer.status, what).toBeGreaterThanOrEqual(200)
        // A typed answer: problem+json with a code or type, or a notify's bare success/fail.
        if (answer.type.includes('application/problem+json')) {
          const problem = JSON.parse(answer.text) as { type?: string; code?: string }
          expect(problem.code ?? problem.type, what).toBeTruthy()
        } else if (url.includes('notify')) expect(['success', 'fail'], what).toContain(answer.text)
        else expect(answer.status, what).toBeLessThan(300)
      }
    }
    // The order is still the buyer's, unpaid, and was cancelled only by its own buyer at the end.
    const after = await fetch(`${shop}/api/orders/${order.orderId}`, { headers: operator })
    expect(((await after.json()) as { status: string }).status).toBe('close')
  }, 120_000)
})
