import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openSessionStore } from '@alipay-payment-handler/payment-app'
import { encodeForm, md5Sign, renderGatewayReply, signParams, stringToSign } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

/**
 * The drain: `alipay-payment-app` (the bin, its own process) gets SIGTERM while 200 notifies are
 * in flight. Every notify it answered `success` must reach the merchant, before it exits or, from
 * the outbox, after a restart; the ones it did not take are sent again, as the gateway does; it
 * exits 0. The gateway and the merchant are real HTTP servers on loopback.
 */
const CLI = fileURLToPath(new URL('../../packages/payment-app/src/cli.ts', import.meta.url))
const NOTIFIES = 200
const FEE = '0.01'
const SHOP = 'http://localhost:4100'

let dir: string
const servers: Server[] = []
afterAll(() => {
  for (const server of servers) server.close()
  rmSync(dir, { recursive: true, force: true })
})

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const outTradeNo = (i: number) => `DRAIN${String(i).padStart(8, '0')}`
const tradeNo = (i: number) => `2024050121001004330${String(i).padStart(9, '0')}`

let gatewayUrl: string
let merchantUrl: string
const delivered = new Map<string, number>()
let bodies: string[]

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alipay-drain-'))
  // The gateway: notify_verify says true, single_trade_query answers the trade paid (signed).
  gatewayUrl = `${await listen((req, res) => {
    const query = new URL(req.url ?? '/', 'http://gateway.invalid').searchParams
    req.resume()
    if (query.get('service') === 'single_trade_query') {
      const i = Number((query.get('trade_no') ?? '').slice(-9))
      const trade = {
        out_trade_no: outTradeNo(i),
        trade_no: tradeNo(i),
        trade_status: 'TRADE_SUCCESS',
        total_fee: FEE,
        seller_id: DEMO_PARTNER.sellerId,
      }
      const sign = md5Sign(stringToSign(trade), DEMO_PARTNER.md5Key)
      res.end(renderGatewayReply({ isSuccess: true, trade, sign, signType: 'MD5' }))
    } else res.end('true')
  })}/gateway.do`
  // The merchant's notify_url: counts each notify_id it received.
  merchantUrl = await listen((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      const id = new URLSearchParams(body).get('notify_id') ?? ''
      delivered.set(id, (delivered.get(id) ?? 0) + 1)
      res.end('success')
    })
  })
  // One open session per order, as the checkout would have created them.
  const store = openSessionStore(join(dir, 'signing.db'))
  const now = Date.now()
  for (let i = 0; i < NOTIFIES; i++) {
    store.insertSession({
      id: `drain-${i}`,
      partner: DEMO_PARTNER.partner,
      paymentRequestId: `pr-${i}`,
      merchantOrigin: SHOP,
      outTradeNo: outTradeNo(i),
      subject: 'drain',
      totalFee: FEE,
      device: 'pc',
      merchantNotifyUrl: `${merchantUrl}/notify`,
      request: {},
      status: 'at_cashier',
      outcome: undefined,
      tradeNo: undefined,
      expiresAt: now + 3_600_000,
      windowClosed: false,
      nextPollAt: undefined,
      createdAt: now,
    })
  }
  store.close()
  bodies = []
  for (let i = 0; i < NOTIFIES; i++) {
    const params = await signParams(
      {
        notify_time: '2024-05-01 12:00:06',
        notify_type: 'trade_status_sync',
        notify_id: `drain${String(i).padStart(8, '0')}`.padEnd(34, 'x'),
        out_trade_no: outTradeNo(i),
        trade_no: tradeNo(i),
        trade_status: 'TRADE_SUCCESS',
        total_fee: FEE,
        seller_id: DEMO_PARTNER.sellerId,
        seller_email: DEMO_PARTNER.sellerEmail,
        subject: 'drain',
      },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    bodies.push(encodeForm(params, 'utf-8'))
  }
}, 60_000)

interface Bin {
  child: ChildProcess
  url: Promise<string>
  exited: Promise<number | null>
  output: () => string
}

function startBin(): Bin {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(ALIPAY_|PORT$|HOST$|PUBLIC_ORIGIN$|SIGNING_SERVER_DB$)/.test(name),
    ),
  )
  const child = spawn(
    process.execPath,
    ['--conditions=@alipay-payment-handler/source', '--import', 'tsx', CLI, '--port', '0'],
    {
      env: {
        ...env,
        ALIPAY_GATEWAY_URL: gatewayUrl,
        ALIPAY_PARTNER: DEMO_PARTNER.partner,
        ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
        ALIPAY_ALLOWED_ORIGINS: `${SHOP},${merchantUrl}`,
        SIGNING_SERVER_DB: join(dir, 'signing.db'),
        SHUTDOWN_TIMEOUT: '20',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  let found: (url: string) => void
  const url = new Promise<string>((resolve) => (found = resolve))
  const read = (chunk: string) => {
    output += chunk
    const match = /listening on (http:\/\/\S+)/.exec(output)
    if (match) found(match[1]!)
  }
  child.stdout!.setEncoding('utf8').on('data', read)
  child.stderr!.setEncoding('utf8').on('data', read)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, url, exited, output: () => output }
}

/** POSTs one notify on its own connection; answers the reply's text, or "refused" when it got none. */
function postNotify(url: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const target = new URL(`${url}/notify/mapi`)
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve(res.statusCode === 200 ? text : `HTTP ${res.statusCode}`))
        res.on('error', () => resolve('refused'))
      },
    )
    req.on('error', () => resolve('refused'))
    req.end(body)
  })
}

it('SIGTERM during 200 in-flight notifies: exit 0, and every notify reaches the merchant', async () => {
  const first = startBin()
  const url = await first.url
  // All 200 on their way at once; the signal goes as soon as the first one is answered.
  const answers = bodies.map((body) => postNotify(url, body))
  await Promise.race(answers)
  first.child.kill('SIGTERM')
  const results = await Promise.all(answers)
  expect(await first.exited, first.output()).toBe(0)
  const taken = results.filter((r) => r === 'success').length
  expect(taken).toBeGreaterThan(0)

  // The gateway sends again what was not answered `success`; the restarted app resumes its outbox.
  const second = startBin()
  const again = await second.url
  const retried = await Promise.all(
    bodies.map((body, i) => (results[i] === 'success' ? Promise.resolve('success') : postNotify(again, body))),
  )
  expect(retried.every((r) => r === 'success')).toBe(true)
  const deadline = Date.now() + 60_000
  while (delivered.size < NOTIFIES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  second.child.kill('SIGTERM')
  expect(await second.exited, second.output()).toBe(0)
  // None lost: every notify id arrived at the merchant (possibly twice: it de-duplicates).
  expect(delivered.size).toBe(NOTIFIES)
}, 180_000)
