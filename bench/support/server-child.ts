// A server under test, alone in its own process (forked by bench/support/child.ts), so its RSS is
// its own and the load generator does not share its event loop. Modes: the real signing server
// (relay or session creation) and the bare references each is compared with.
// It runs as a deployment runs the server: plain `node` on the packages' built dist/. child.ts
// strips this file's types before forking it, so it may import only built packages (no .ts).
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import type { PartnerConfig } from '@alipay-payment-handler/gateway-client'
import type { ChildMessage, ChildOptions, ParentMessage } from './child.js'

const send = (message: ChildMessage) => process.send?.(message)

async function startRelay(
  options: ChildOptions,
  partner: PartnerConfig,
): Promise<{ url: string; server: RunningSigningServer }> {
  const server = await startSigningServer({
    port: 0,
    gatewayUrl: options.gatewayUrl ?? 'http://127.0.0.1:9/gateway.do',
    partners: [{ ...partner, allowedOrigins: [options.merchantOrigin ?? 'http://localhost:4100'] }],
    dbPath: options.dbPath ?? ':memory:',
    logger: createLogger({ level: 'error' }),
    // The bench is one client hammering one route; the limits would answer 429 after 30 creates.
    rateLimits: false,
    ...(options.outboxIntervalMs ? { outboxIntervalMs: options.outboxIntervalMs } : {}),
  })
  const sessions = options.sessions
  if (sessions) {
    // Sessions straight into the store: the relay looks one up per out_trade_no to find notify_url.
    const store = server.server.store
    const now = Date.now()
    // 50 inserts in flight: on PostgreSQL with synchronous_commit on, one at a time is one WAL
    // flush each (10,500 took longer than the READY timeout); together they share flushes.
    let next = 0
    const insertSome = async () => {
      while (next < sessions.outTradeNos.length) {
        const outTradeNo = sessions.outTradeNos[next++]!
        await insertOne(outTradeNo)
      }
    }
    const insertOne = (outTradeNo: string) =>
      store.insertSession({
        id: `bench-${outTradeNo}`,
        partner: partner.partner,
        paymentRequestId: `pr-${outTradeNo}`,
        merchantOrigin: options.merchantOrigin ?? 'http://localhost:4100',
        outTradeNo,
        subject: sessions.subject,
        totalFee: sessions.totalFee,
        device: 'pc',
        merchantNotifyUrl: sessions.merchantNotifyUrl,
        request: {},
        status: 'at_cashier',
        outcome: undefined,
        tradeNo: undefined,
        expiresAt: now + 3_600_000,
        windowClosed: false,
        nextPollAt: undefined,
        createdAt: now,
      })
    await Promise.all(Array.from({ length: 50 }, insertSome))
  }
  return { url: server.url, server }
}

/** The relay's reference: answers `success` to anything, stores nothing. */
async function startBareNotify(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      response.end('success')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/**
 * The relay's reference: for each notify the same HTTP calls the relay makes (notify_verify and
 * single_trade_query to the gateway, the forward to the merchant), on the same client (undici's
 * global fetch, pooled), and then `success`; no signature check, no store, no outbox.
 */
async function startStubRelay(
  gatewayUrl: string,
  forwardUrl: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const params = new URLSearchParams(body)
      const partner = params.get('seller_id') ?? ''
      const verify = `${gatewayUrl}?service=notify_verify&partner=${partner}&notify_id=${params.get('notify_id') ?? ''}`
      const query = `${gatewayUrl}?service=single_trade_query&partner=${partner}&trade_no=${params.get('trade_no') ?? ''}`
      const answer = (text: string) => {
        response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        response.end(text)
      }
      fetch(verify)
        .then((r) => r.text())
        .then(() => fetch(query))
        .then((r) => r.text())
        .then(() =>
          fetch(forwardUrl, {
            method: 'POST',
            headers: { 'content-type': request.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
            body,
          }),
        )
        .then((r) => r.text())
        .then(
          () => answer('success'),
          () => answer('fail'),
        )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The session route's reference: the same stack (Hono on @hono/node-server), a canned answer. */
async function startBareSessions(body: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono()
  app.post('/api/sessions', async (c) => {
    await c.req.text()
    return c.json(body, 201)
  })
  const listener = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false })
  const port = await new Promise<number>((resolve) =>
    listener.once('listening', () => resolve((listener.address() as AddressInfo).port)),
  )
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => listener.close(() => resolve())),
  }
}

/** Starts the server `options` ask for; answers READY with its URL. */
async function start(options: ChildOptions, partner: PartnerConfig): Promise<void> {
  if (options.mode === 'signing-server') {
    const { url, server } = await startRelay(options, partner)
    close = () => server.close()
    outbox = () => server.server.store.outboxCounts()
    send({ type: 'READY', payload: { url } })
  } else if (options.mode === 'stub-relay') {
    const stub = await startStubRelay(options.gatewayUrl ?? '', options.forwardUrl ?? '')
    close = stub.close
    send({ type: 'READY', payload: { url: stub.url } })
  } else if (options.mode === 'bare-notify') {
    const bare = await startBareNotify()
    close = bare.close
    send({ type: 'READY', payload: { url: bare.url } })
  } else {
    const bare = await startBareSessions(options.cannedBody)
    close = bare.close
    send({ type: 'READY', payload: { url: bare.url } })
  }
}

let close: () => Promise<void> = async () => undefined
let outbox: (() => Promise<Record<string, number>>) | undefined

process.on('message', (raw) => {
  const message = raw as ParentMessage
  if (message.type === 'START') {
    start(message.payload, message.partner).catch((error: unknown) => {
      console.error('[alipay] bench child failed to start:', error)
      process.exit(1)
    })
  } else if (message.type === 'STATS') {
    const memory = process.memoryUsage()
    void (outbox?.() ?? Promise.resolve({})).then((counts) =>
      send({ type: 'STATS', payload: { rss: memory.rss, heapUsed: memory.heapUsed, outbox: counts } }),
    )
  } else {
    void close().finally(() => process.exit(0))
  }
})
// The parent went away (Ctrl-C, a crash): do not linger.
process.on('disconnect', () => process.exit(0))
