import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import {
  createPolyfillAssets,
  startSigningServer,
  type RunningSigningServer,
} from '@alipay-payment-handler/payment-app'
import { startMerchant, type RunningMerchant } from '@alipay-payment-handler/demo-shop/server/server'
import {
  call,
  createSession,
  paymentData,
  placeOrder,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

/**
 * Cross-site requests and DNS rebinding against the signing server and the shop, over real
 * sockets. A rebinding page runs on the attacker's name (evil.example) resolved to the server's
 * address: its requests carry `Host: evil.example:<port>` and, for a POST, the matching `Origin`,
 * so they look same-origin to any check that trusts the Host header.
 */
let stack: SecurityStack
/** A second signing server and shop with static files mounted (the stack has none). */
let files: { dir: string; signing: RunningSigningServer; merchant: RunningMerchant }

beforeAll(async () => {
  stack = await startSecurityStack()
  const dir = mkdtempSync(join(tmpdir(), 'alipay-csrf-host-'))
  const polyfillDir = join(dir, 'polyfill')
  const shopDir = join(dir, 'shop')
  mkdirSync(polyfillDir)
  mkdirSync(shopDir)
  writeFileSync(join(polyfillDir, 'alipay-polyfill.js'), 'export {}\n')
  writeFileSync(join(shopDir, 'index.html'), '<!doctype html><title>shop</title>\n')
  writeFileSync(join(shopDir, 'app.js'), 'export {}\n')
  const merchant = await startMerchant({
    port: 0,
    appOrigin: 'http://127.0.0.1:1',
    gatewayUrl: stack.sandbox.gatewayUrl,
    partner: demoPartnerConfig(),
    dataDir: dir,
    publicDir: shopDir,
    logger: silentLogger(),
  })
  const signing = await startSigningServer({
    port: 0,
    gatewayUrl: stack.sandbox.gatewayUrl,
    partners: [demoPartnerConfig({ allowedOrigins: [merchant.url] })],
    dbPath: join(dir, 'signing.db'),
    logger: silentLogger(),
    rateLimits: false,
    handlerAssets: {
      fetch: () => new Response('<!doctype html><title>checkout</title>', { headers: { 'content-type': 'text/html' } }),
    },
    polyfillAssets: createPolyfillAssets(polyfillDir),
  })
  files = { dir, signing, merchant }
})
afterAll(async () => {
  await files?.signing.close()
  await files?.merchant.close()
  if (files) rmSync(files.dir, { recursive: true, force: true })
  await stack.close()
})

/**
 * One request with exactly these headers, Host included (fetch always sends the URL's own host).
 * `url` names the socket to connect to; `headers.host` defaults to the URL's host.
 */
function raw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { host: target.host, ...init.headers },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
        })
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}

const portOf = (url: string) => new URL(url).port

/** Writes `bytes` on a fresh connection and answers the head of what comes back before the close. */
function rawSocket(url: string, bytes: string): Promise<string> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    let answer = ''
    const socket = connect(Number(target.port), target.hostname, () => socket.write(bytes))
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
    socket.on('close', () => resolve(answer.split('\r\n\r\n')[0] ?? ''))
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)))
  })
}

/** A session created as the checkout window creates it: same-origin, JSON. */
async function ownSession(): Promise<string> {
  const order = await placeOrder(stack)
  const { data, total } = await paymentData(stack, order.orderId)
  const session = await createSession(stack, data, total)
  expect(session.status, session.text).toBe(201)
  return session.json.sessionId as string
}

async function sessionStatus(sessionId: string): Promise<string> {
  return (await call(`${stack.signing.url}/api/sessions/${sessionId}`)).json.status as string
}

describe('cross-site state changes on the signing server', () => {
  it('attack: a cross-site text/plain POST creating a session is refused (403), and a non-JSON one never gets in (415); notifies and reads still pass', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const body = JSON.stringify({
      paymentRequestId: 'pr-csrf',
      merchantOrigin: stack.merchant.url,
      methodData: data,
      total,
    })
    const url = `${stack.signing.url}/api/sessions`
    // A form on another site (enctype text/plain) or a no-cors fetch: a "simple request", no preflight.
    const simple = await call(url, {
      body,
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    })
    expect(simple.status, simple.text).toBe(403)
    expect(simple.json.type).toMatch(/cross-site-request$/)
    // The same from a browser that sends Fetch Metadata only, or Origin only.
    expect(
      (await call(url, { body, headers: { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' } })).status,
    ).toBe(403)
    expect(
      (await call(url, { body, headers: { 'content-type': 'text/plain', origin: 'https://evil.example' } })).status,
    ).toBe(403)
    // Even a partner's merchant page: the checkout window that creates sessions is on the payment app's origin.
    const fromMerchant = await call(url, {
      body,
      headers: { origin: stack.merchant.url, 'sec-fetch-site': 'same-site' },
    })
    expect(fromMerchant.status, fromMerchant.text).toBe(403)
    // Without Origin or Fetch Metadata, a body that is not declared JSON is refused all the same.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const undeclared = await call(url, { body, headers: { 'content-type': type } })
      expect(undeclared.status, type).toBe(415)
      expect(undeclared.json.type).toMatch(/json-required$/)
    }
    // The checkout window itself (same origin, JSON) still creates it.
    const own = await call(url, {
      body,
      headers: { origin: stack.signing.url, 'sec-fetch-site': 'same-origin' },
    })
    expect(own.status, own.text).toBe(201)
    // Server-to-server notifies (no Origin, no Fetch Metadata) still pass, and so do cross-origin reads.
    const relay = await fetch(`${stack.signing.url}/notify/mapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'notify_id=x&out_trade_no=y',
    })
    expect(relay.status).not.toBe(403)
    expect(relay.status).toBeLessThan(500)
    const shop = await fetch(`${stack.merchant.url}/api/notify`, { method: 'POST', body: 'a=b' })
    expect(shop.status).not.toBe(403)
    // The merchant page may still read a session cross-origin (CORS for the partners' origins).
    const read = await call(`${stack.signing.url}/api/sessions/${own.json.sessionId}`, {
      headers: { origin: stack.merchant.url },
    })
    expect(read.status).toBe(200)
    expect(read.headers.get('access-control-allow-origin')).toBe(stack.merchant.url)
  })

  it('attack: a cancel or abort from another origin is refused and leaves the session as it was', async () => {
    const sessionId = await ownSession()
    const base = `${stack.signing.url}/api/sessions/${sessionId}`
    for (const route of ['cancel', 'abort']) {
      const textPlain = await call(`${base}/${route}`, {
        body: '{}',
        headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      })
      expect(textPlain.status, route).toBe(403)
      const json = await call(`${base}/${route}`, { body: {}, headers: { origin: 'https://evil.example' } })
      expect(json.status, route).toBe(403)
      const metadata = await call(`${base}/${route}`, { body: {}, headers: { 'sec-fetch-site': 'cross-site' } })
      expect(metadata.status, route).toBe(403)
      const nullOrigin = await call(`${base}/${route}`, {
        body: '{}',
        headers: { 'content-type': 'text/plain', origin: 'null' },
      })
      expect(nullOrigin.status, route).toBe(403)
      const noType = await call(`${base}/${route}`, { method: 'POST' })
      expect(noType.status, route).toBe(415)
    }
    expect(await sessionStatus(sessionId)).toBe('at_cashier')
    // The checkout window's own cancel (the buyer's) works.
    const own = await call(`${base}/cancel`, {
      body: {},
      headers: { origin: stack.signing.url, 'sec-fetch-site': 'same-origin' },
    })
    expect(own.status, own.text).toBe(200)
    expect(await sessionStatus(sessionId)).toBe('cancelled')
  })
})

describe('DNS rebinding: a Host that is not the server’s', () => {
  it('attack: a rebinding Host is refused with 421 on the signing server and the shop', async () => {
    const sessionId = await ownSession()
    const order = await placeOrder(stack)
    const signingPort = portOf(stack.signing.url)
    const shopPort = portOf(stack.merchant.url)
    const evilSigning = `evil.example:${signingPort}`
    const evilShop = `evil.example:${shopPort}`
    const attempts = [
      // Reads the rebinding page could make same-origin.
      raw(`${stack.signing.url}/api/sessions/${sessionId}`, { headers: { host: evilSigning } }),
      raw(`${stack.merchant.url}/api/orders/${order.orderId}`, { headers: { host: evilShop } }),
      raw(`${stack.merchant.url}/api/orders`, { headers: { host: evilShop } }),
      // State changes whose Origin matches the forged Host, as a rebinding page's own fetch would send.
      raw(`${stack.signing.url}/api/sessions/${sessionId}/cancel`, {
        body: '{}',
        headers: {
          host: evilSigning,
          origin: `http://${evilSigning}`,
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/json',
        },
      }),
      raw(`${stack.merchant.url}/api/orders/${order.orderId}/cancel`, {
        body: '{}',
        headers: {
          host: evilShop,
          origin: `http://${evilShop}`,
          'sec-fetch-site': 'same-origin',
          'content-type': 'application/json',
        },
      }),
      // A rebound name without a port, and an address the server was not configured with.
      raw(`${stack.signing.url}/api/sessions/${sessionId}`, { headers: { host: 'evil.example' } }),
      raw(`${stack.merchant.url}/api/products`, { headers: { host: `192.0.2.1:${shopPort}` } }),
      // The right name on the wrong port is another origin too.
      raw(`${stack.signing.url}/api/sessions/${sessionId}`, { headers: { host: 'localhost:1' } }),
    ]
    for (const answer of await Promise.all(attempts)) {
      expect(answer.status, answer.text).toBe(421)
      expect(answer.headers['content-type']).toContain('application/problem+json')
      expect(answer.json).toMatchObject({ code: 'misdirected-host', status: 421 })
      expect(answer.json.type).toMatch(/misdirected-host$/)
      expect(answer.headers['x-content-type-options']).toBe('nosniff')
    }
    // Nothing changed behind the refusals.
    expect(await sessionStatus(sessionId)).toBe('at_cashier')
    expect((await call(`${stack.merchant.url}/api/orders/${order.orderId}`)).json.status).toBe('wait')
  })

  it('both loopback names (and any letter case) are the server’s own, and the gateway’s notifies with the public Host pass', async () => {
    for (const server of [stack.signing.url, stack.merchant.url]) {
      const port = portOf(server)
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) {
        const path = server === stack.signing.url ? '/healthz' : '/api/products'
        const answer = await raw(`${server}${path}`, { headers: { host } })
        expect(answer.status, `${host}${path}`).toBe(200)
      }
    }
    const signingHost = new URL(stack.signing.url).host
    const shopHost = new URL(stack.merchant.url).host
    const relay = await raw(`${stack.signing.url}/notify/mapi`, {
      body: 'notify_id=x&out_trade_no=y',
      headers: { host: signingHost, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(relay.status, relay.text).not.toBe(421)
    expect(relay.status).toBeLessThan(500)
    const shop = await raw(`${stack.merchant.url}/api/notify`, {
      body: 'notify_id=x&out_trade_no=y',
      headers: { host: shopHost, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(shop.status, shop.text).not.toBe(421)
    expect(shop.text).toBe('fail')
    // A forged Host on a notify is refused like anything else.
    const forged = await raw(`${stack.signing.url}/notify/mapi`, {
      body: 'notify_id=x&out_trade_no=y',
      headers: {
        host: `evil.example:${portOf(stack.signing.url)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
    })
    expect(forged.status).toBe(421)
  })
})

describe('X-Content-Type-Options: nosniff', () => {
  it('attack: an answer sniffed as script or HTML: nosniff is on every kind of response of both servers (JSON, problems, notify answers, 404s, static files, pages, Node’s own errors)', async () => {
    const sessionId = await ownSession()
    const order = await placeOrder(stack)
    const { signing, merchant } = files
    const answers: [string, Promise<Response>][] = [
      // Signing server.
      ['signing JSON', fetch(`${stack.signing.url}/api/sessions/${sessionId}`)],
      ['signing health', fetch(`${stack.signing.url}/healthz`)],
      [
        'signing problem 400',
        fetch(`${stack.signing.url}/api/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        }),
      ],
      [
        'signing problem 403',
        fetch(`${stack.signing.url}/api/sessions/${sessionId}/cancel`, {
          method: 'POST',
          headers: { 'sec-fetch-site': 'cross-site' },
        }),
      ],
      ['signing 404', fetch(`${stack.signing.url}/api/nothing-here`)],
      ['signing 404 outside the API', fetch(`${stack.signing.url}/nothing-here`)],
      ['signing cashier page', fetch(`${stack.signing.url}/api/sessions/${sessionId}/cashier`)],
      [
        'signing notify answer',
        fetch(`${stack.signing.url}/notify/mapi`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'a=b',
        }),
      ],
      [
        'signing notify answer (openapi)',
        fetch(`${stack.signing.url}/notify/openapi`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'a=b',
        }),
      ],
      [
        'signing CORS preflight',
        fetch(`${stack.signing.url}/api/sessions`, {
          method: 'OPTIONS',
          headers: { origin: stack.merchant.url, 'access-control-request-method': 'GET' },
        }),
      ],
      ['signing handler page', fetch(`${signing.url}/pay/checkout.html`)],
      ['signing polyfill file', fetch(`${signing.url}/polyfill/alipay-polyfill.js`)],
      ['signing polyfill 404', fetch(`${signing.url}/polyfill/nothing.js`)],
      // Shop.
      ['shop JSON', fetch(`${stack.merchant.url}/api/products`)],
      ['shop config', fetch(`${stack.merchant.url}/config.json`)],
      ['shop problem 404 (order)', fetch(`${stack.merchant.url}/api/orders/NOPE`)],
      [
        'shop problem 400',
        fetch(`${stack.merchant.url}/api/checkout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{',
        }),
      ],
      [
        'shop problem 403',
        fetch(`${stack.merchant.url}/api/orders/${order.orderId}/cancel`, {
          method: 'POST',
          headers: { 'sec-fetch-site': 'cross-site' },
        }),
      ],
      ['shop API 404', fetch(`${stack.merchant.url}/api/nothing-here`)],
      ['shop 404 without pages', fetch(`${stack.merchant.url}/nothing-here`)],
      [
        'shop notify answer',
        fetch(`${stack.merchant.url}/api/notify`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'a=b',
        }),
      ],
      ['shop page', fetch(`${merchant.url}/`)],
      ['shop static file', fetch(`${merchant.url}/app.js`)],
      ['shop static 404', fetch(`${merchant.url}/nothing-here.js`)],
    ]
    for (const [what, pending] of answers) {
      const response = await pending
      await response.arrayBuffer()
      expect(response.headers.get('x-content-type-options'), `${what} (${response.status})`).toBe('nosniff')
    }
    // What Node answers itself, before any app: a request it cannot parse, headers over its limit.
    for (const server of [stack.signing.url, stack.merchant.url]) {
      const host = new URL(server).host
      const garbled = await rawSocket(server, 'NOT-HTTP\r\n\r\n')
      expect(garbled, server).toMatch(/^HTTP\/1\.1 400 /)
      expect(garbled.toLowerCase(), server).toContain('x-content-type-options: nosniff')
      const huge = await rawSocket(
        server,
        `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Pad: ${'x'.repeat(20_000)}\r\n\r\n`,
      )
      expect(huge, server).toMatch(/^HTTP\/1\.1 431 /)
      expect(huge.toLowerCase(), server).toContain('x-content-type-options: nosniff')
    }
  })
})
