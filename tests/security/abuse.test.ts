import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import { startMerchant, type RunningMerchant } from '@alipay-payment-handler/demo-shop/server/server'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { call } from './support/stack.js'

/** Small limits, so the tests reach them in a handful of requests. */
const LIMIT = 5
const REQUEST_TIMEOUT_MS = 800

let dir: string
let sandbox: RunningSandbox
let signing: RunningSigningServer
let merchant: RunningMerchant

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alipay-abuse-'))
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, dbPath: join(dir, 'sandbox.db'), log: () => {} }))
  merchant = await startMerchant({
    port: 0,
    appOrigin: 'http://127.0.0.1:1',
    gatewayUrl: sandbox.gatewayUrl,
    partner: demoPartnerConfig(),
    dataDir: dir,
    logger: silentLogger(),
    rateLimits: { api: { limit: LIMIT, windowMs: 60_000 } },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  })
  signing = await startSigningServer({
    port: 0,
    gatewayUrl: sandbox.gatewayUrl,
    partners: [demoPartnerConfig({ allowedOrigins: [merchant.url] })],
    dbPath: join(dir, 'signing.db'),
    logger: silentLogger(),
    rateLimits: { create: { limit: LIMIT, windowMs: 60_000 }, api: { limit: 1000, windowMs: 60_000 } },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  })
})
afterAll(async () => {
  await signing.close()
  await merchant.close()
  await sandbox.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Sends the headers and the start of a body, then a byte per 300 ms; answers what the server did. */
function slowBody(url: string, path: string): Promise<{ status: string; ms: number }> {
  const { hostname, port } = new URL(url)
  const started = Date.now()
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname)
    let answer = ''
    let drip: NodeJS.Timeout | undefined
    const done = (status: string) => {
      clearInterval(drip)
      socket.destroy()
      resolve({ status, ms: Date.now() - started })
    }
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"a":"`,
      )
      drip = setInterval(() => socket.write('x'), 300)
    })
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
    socket.on('close', () => done(answer.split('\r\n')[0] || 'closed'))
    socket.on('error', () => done('closed'))
    // The test fails if the server keeps the connection open for 10 s.
    setTimeout(() => done('still open'), 10_000)
  })
}

describe('abuse of the public endpoints', () => {
  it('attack: flooding the public endpoints hits rate limits (429 with Retry-After)', async () => {
    const body = { paymentRequestId: 'pr', merchantOrigin: merchant.url, methodData: {}, total: {} }
    const sessions = []
    for (let i = 0; i < LIMIT + 2; i++) sessions.push(await call(`${signing.url}/api/sessions`, { body }))
    expect(sessions.slice(0, LIMIT).every((r) => r.status === 400)).toBe(true)
    expect(sessions.at(-1)!.status).toBe(429)
    expect(Number(sessions.at(-1)!.headers.get('retry-after'))).toBeGreaterThan(0)

    const checkouts = []
    for (let i = 0; i < LIMIT + 2; i++) {
      checkouts.push(await call(`${merchant.url}/api/checkout`, { body: { items: [] } }))
    }
    expect(checkouts.at(-1)!.status).toBe(429)
    expect(Number(checkouts.at(-1)!.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('attack: oversized bodies are refused with 413, deep nesting with a 4xx, never a 500', async () => {
    const big = JSON.stringify({ methodData: { subject: 'x'.repeat(200_000) } })
    const tooBig = await call(`${signing.url}/notify/mapi`, { body: big })
    expect(tooBig.status).toBe(413)
    const relayNotify = await fetch(`${signing.url}/notify/mapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(100_000)}`,
    })
    expect(relayNotify.status).toBe(413)
    const gateway = await fetch(`${sandbox.gatewayUrl}?_input_charset=utf-8`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `subject=${'x'.repeat(200_000)}`,
    })
    expect(gateway.status).toBe(413)

    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const nestedSession = await call(`${signing.url}/api/orders-that-do-not-exist`, { body: deep })
    expect(nestedSession.status).toBe(404)
    const nested = await fetch(`${signing.url}/api/sessions/x/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"reason":${deep}}`,
    })
    expect(nested.status).toBeGreaterThanOrEqual(400)
    expect(nested.status).toBeLessThan(500)
    const nestedShop = await fetch(`${merchant.url}/api/orders/D1/refund`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"amount":${deep}}`,
    })
    expect(nestedShop.status).toBeGreaterThanOrEqual(400)
    expect(nestedShop.status).toBeLessThan(500)
  })

  it('attack: slow-loris style slow bodies time out', async () => {
    const [relay, shop] = await Promise.all([
      slowBody(signing.url, '/notify/mapi'),
      slowBody(merchant.url, '/api/notify'),
    ])
    for (const result of [relay, shop]) {
      expect(result.status).not.toBe('still open')
      expect(result.status).toMatch(/408|closed/)
      expect(result.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 3000)
    }
  })
})
