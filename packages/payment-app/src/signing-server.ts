import { serve } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { cors } from 'hono/cors'
import { NOTIFY_ACK } from '@alipay-payment-handler/protocol'
import type { Server as HttpServer, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  renderCashierForm,
  createMapiClient,
  createOpenapiClient,
  createPartnerRegistry,
  type GatewayKind,
  type PartnerRegistry,
} from '@alipay-payment-handler/gateway-client'
import {
  answerClientErrors,
  hostsOfOrigin,
  installErrorHandling,
  limitBody,
  loopbackHosts,
  refuseCrossSite,
  refuseMisdirectedHost,
  requireJson,
  securityHeaders,
  slowRequestLimits,
  strictCsp,
  createLogger,
  type Logger,
  startLoop,
  type Loop,
  HttpProblem,
  createRateLimits,
  requestLogging,
  type RateLimitOptions,
  type RateLimitStore,
  jsonBody,
  parseWith,
} from '@alipay-payment-handler/server-runtime'
import { createPaymentAppMetrics, type PaymentAppMetrics } from './metrics.js'
import { createNotifyReceiver, createOutboxDispatcher } from './notify-relay.js'
import { SessionEvents } from './session-events.js'
import { mapiSessionGateway, openapiSessionGateway, type SessionGateway } from './session-gateway.js'
import { CancelBody, CreateSessionBody, ReturnBody, RevokeBody, StatusQuery } from './session-schemas.js'
import { createSessionService, type SessionService } from './session-service.js'
import { type SessionStore } from './session-store.js'
import { openSessionStoreAt } from './session-store-open.js'

/** Something that answers requests for /pay and /pay/*: a Hono sub-app or a plain fetch handler. */
export interface HandlerAssets {
  fetch(request: Request): Response | Promise<Response>
}

/** What the HTTP layer needs; everything is built by `createSigningServer` or by a test. */
export interface SigningServerAppDeps {
  sessions: SessionService
  /** The notify relay's receiving side: raw body + Content-Type (+ the endpoint's gateway) → the text to answer. */
  receiveNotify: (body: string, contentType: string, kind?: GatewayKind) => Promise<string>
  partners: PartnerRegistry
  /** Origin of the server's gateway, for the CSP's form-action (partners' own gateways are added). */
  gatewayOrigin: string
  logger: Logger
  handlerAssets?: HandlerAssets | undefined
  /** Answers /polyfill/* (the polyfill's prebuilt modules); unset, those URLs are 404. */
  polyfillAssets?: HandlerAssets | undefined
  /** Per client and window; `false` turns rate limiting off (tests that hammer one route). */
  rateLimits?: { api?: RateLimitOptions; create?: RateLimitOptions; notify?: RateLimitOptions } | false
  /**
   * The reverse proxies in front (addresses or CIDR ranges): rate limits key on the client address
   * they report in `Forwarded`/`X-Forwarded-For`, read only from them. Unset: the socket's peer.
   */
  trustedProxies?: readonly string[] | undefined
  /** Shared rate-limit counters for several processes (a `pg` Pool); unset, in memory. */
  rateLimitStore?: RateLimitStore | undefined
  /**
   * Why the server cannot take traffic now (`GET /readyz` answers 503 with it), or undefined when
   * it can. Unset: always ready.
   */
  readiness?: () => Promise<string | { ready: Record<string, unknown> } | undefined>
  /** Aborts when the server starts shutting down: long polls answer at once instead of holding the drain. */
  shutdownSignal?: AbortSignal
  /** Prometheus metrics, answered at `GET /metrics` (keep that path off the public proxy). Unset: no /metrics. */
  metrics?: PaymentAppMetrics | undefined
  /**
   * The payment app's own origin, where the checkout window and the worker run: the one origin
   * whose pages may change state (create, return, cancel, abort). Unset: same-Host requests only.
   */
  publicOrigin?: string | undefined
  /**
   * The `Host` values answered (DNS rebinding guard); any other gets 421 `misdirected-host`, except
   * `/healthz` and `/readyz`. Unset: every Host (an app mounted behind a check of its own).
   */
  hosts?: readonly string[] | undefined
}

/**
 * Health probes and metric scrapes come from orchestrators and Prometheus with the pod's address
 * as Host; the probes reveal nothing, /metrics is for the internal network (see README).
 */
const PROBES = /^\/(healthz|readyz|metrics)$/

/** The answer before the app is built: come back in a second; plain text, never sniffed. */
const STARTING_HEADERS = {
  'retry-after': '1',
  'content-type': 'text/plain; charset=utf-8',
  'x-content-type-options': 'nosniff',
}

/** The methods CORS answers for: the reads merchant pages may make, and the preflight. */
const CORS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Longest long poll, in seconds (the contract's 25 s, inside common proxy timeouts). */
const MAX_WAIT_SECONDS = 25

/** Builds the signing server's fetch handler. Only `startSigningServer` listens. */
export function createSigningServerApp(deps: SigningServerAppDeps): Hono {
  const app = new Hono()
  installErrorHandling(app, deps.logger)
  // A request id on every answer and in every line logged for it (X-Request-Id from the proxy is kept).
  app.use('*', requestLogging(deps.logger))
  const metrics = deps.metrics
  if (metrics) {
    app.use('*', metrics.middleware)
    app.get('/metrics', () => metrics.respond())
  }
  // Forms may go to every gateway a partner uses, and nowhere else.
  const gatewayOrigins = [
    ...new Set([
      deps.gatewayOrigin,
      ...deps.partners.list().flatMap((p) => (p.gatewayUrl ? [new URL(p.gatewayUrl).origin] : [])),
    ]),
  ]
  app.use('*', securityHeaders(gatewayOrigins))
  // DNS rebinding: a page on the attacker's name re-resolved to us must not pass as same-origin.
  if (deps.hosts) app.use('*', refuseMisdirectedHost({ hosts: deps.hosts, except: PROBES }))

  // Who may call the sessions API from a browser: only the payment app's own pages. The checkout
  // window (create, cancel), the return page (return) and the service worker (status, abort) all
  // go through handler/src/common/sessions-api.ts with `baseUrl: location.origin`. No merchant
  // page calls /api/*: the polyfill and Chromium hand the request to the checkout window, which
  // creates the session itself. So CORS for the partners' merchant origins is for reads only
  // (a session's status and cashier page, GET, which the merchant may see anyway), and state
  // changes are refused from every other origin, a partner's merchant origin included: 403 for an
  // Origin that is neither the public origin nor this Host, or Sec-Fetch-Site cross-site/same-site;
  // 415 for a POST that is not `application/json`, which no form or no-cors fetch can send, so no
  // state change is a "simple request" that skips the preflight. The gateway's notifies send no
  // Origin and no Fetch Metadata and pass (they are proven by signature and the gateway's word);
  // /pay/* (manifests) and /polyfill/* stay readable cross-origin: they are GETs.
  const allowed = new Set(deps.partners.list().flatMap((p) => p.allowedOrigins))
  const readsCors = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'HEAD'],
    allowHeaders: ['content-type'],
    maxAge: 600,
  })
  // Only the reads and their preflights: no state change answers a merchant origin anyway, and
  // the Vary header hono's cors adds after the route rebuilds the whole answer (about 5 µs of CPU
  // per create-session).
  app.use('/api/*', (c, next) => (CORS_METHODS.has(c.req.method) ? readsCors(c, next) : next()))
  const limits = deps.rateLimits === false ? undefined : (deps.rateLimits ?? {})
  if (limits) {
    const rate = createRateLimits({
      keyPrefix: 'payment-app',
      ...(deps.trustedProxies ? { trustedProxies: deps.trustedProxies } : {}),
      ...(deps.rateLimitStore ? { store: deps.rateLimitStore } : {}),
    })
    app.post('/api/sessions', rate.limit('create', limits.create ?? { limit: 30, windowMs: 60_000 }))
    app.use('/api/*', rate.limit('api', limits.api ?? { limit: 600, windowMs: 60_000 }))
    app.use('/notify/*', rate.limit('notify', limits.notify ?? { limit: 600, windowMs: 60_000 }))
  }
  app.use('*', refuseCrossSite({ allowedOrigins: deps.publicOrigin ? [deps.publicOrigin] : [], except: /^\/notify\// }))
  app.use('/api/*', requireJson())
  app.use('/api/*', limitBody(32 * 1024))
  app.use('/notify/*', limitBody(32 * 1024))

  // Liveness: the process answers. Readiness: it can serve (the database answers, not shutting down).
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    const reason = await deps.readiness?.()
    c.header('cache-control', 'no-store')
    if (reason === undefined) return c.json({ ok: true })
    if (typeof reason === 'object') return c.json({ ok: true, ...reason.ready })
    c.header('retry-after', '5')
    throw new HttpProblem(503, 'not-ready', reason)
  })

  app.post('/api/sessions', async (c) => {
    const body = await jsonBody(c, CreateSessionBody)
    return c.json(await deps.sessions.create(body), 201)
  })

  app.get('/api/sessions/:id', async (c) => {
    const query = parseWith(StatusQuery, c.req.query())
    const waitSeconds = Math.min(Number(query.wait ?? 0), MAX_WAIT_SECONDS)
    const signal = deps.shutdownSignal ? AbortSignal.any([c.req.raw.signal, deps.shutdownSignal]) : c.req.raw.signal
    const view = await deps.sessions.waitView(c.req.param('id'), waitSeconds * 1000, query.status, signal)
    c.header('cache-control', 'no-store')
    return c.json(view)
  })

  app.post('/api/sessions/:id/return', async (c) => {
    const body = await jsonBody(c, ReturnBody)
    return c.json(await deps.sessions.handleReturn(c.req.param('id'), body.query))
  })

  app.post('/api/sessions/:id/cancel', async (c) => {
    const body = await jsonBody(c, CancelBody)
    return c.json(await deps.sessions.cancel(c.req.param('id'), body.reason ?? 'buyer'))
  })

  app.post('/api/sessions/:id/abort', async (c) => c.json(await deps.sessions.cancel(c.req.param('id'), 'aborted')))

  // Server to server: the merchant cancelled an order. It sends no Origin and no Fetch Metadata;
  // its signature (the partner's key) is what admits it, so no page can forge one.
  app.post('/api/merchant/revoke', async (c) => {
    const body = await jsonBody(c, RevokeBody)
    return c.json(await deps.sessions.revokeOrder(body.params))
  })

  // The cashier as an auto-submitting form, for windows that prefer a page to a URL.
  app.get('/api/sessions/:id/cashier', async (c) => {
    const { gatewayUrl, fields: request } = await deps.sessions.cashierRequest(c.req.param('id'))
    const nonce = crypto.randomUUID().replace(/-/g, '')
    c.header('content-security-policy', strictCsp([new URL(gatewayUrl).origin], nonce))
    c.header('cache-control', 'no-store')
    // openapi names its charset `charset`, mapi `_input_charset` (openapi-protocol §1.3).
    const charsetParam = request['app_id'] !== undefined ? 'charset' : '_input_charset'
    return c.html(
      renderCashierForm({ action: `${gatewayUrl}?${charsetParam}=utf-8`, method: 'get', fields: request }, nonce),
    )
  })

  for (const kind of ['mapi', 'openapi'] as const) {
    app.post(`/notify/${kind}`, async (c) => {
      const answer = await deps.receiveNotify(await c.req.text(), c.req.header('content-type') ?? '', kind)
      // Exactly the seven characters, nothing else (mapi-protocol §6.2, openapi-protocol §6.4).
      return c.body(answer, 200, { 'content-type': 'text/plain; charset=utf-8' })
    })
  }

  const assets = deps.handlerAssets
  const serveAssets = async (c: Context) => {
    if (!assets) throw new HttpProblem(404, 'not-found', 'The payment handler files are not mounted.')
    return assets.fetch(c.req.raw)
  }
  app.all('/pay', serveAssets)
  app.all('/pay/*', serveAssets)
  const polyfill = deps.polyfillAssets
  if (polyfill) app.get('/polyfill/*', (c) => polyfill.fetch(c.req.raw))
  return app
}

/** Everything that configures a signing server. */
export interface SigningServerConfig {
  /** 0 picks a free port. Default 4200. */
  port?: number
  hostname?: string
  /** The origin browsers and the gateway reach us at; default `http://localhost:<port>`. */
  publicOrigin?: string
  /** The full `gateway.do` URL: the sandbox's or `https://mapi.alipay.com/gateway.do`. */
  gatewayUrl: string
  /** Partner configs (see `PartnerConfig`); checked at start, a bad key stops the start. */
  partners: readonly unknown[]
  /**
   * Where sessions, notifies and the outbox live: a SQLite file, or a `postgres://` URL (several
   * processes may share one PostgreSQL database; migrations are applied at start).
   */
  dbPath: string
  /** A store opened by the caller instead (`dbPath` is then ignored); closed with the server. */
  store?: SessionStore
  handlerAssets?: HandlerAssets
  polyfillAssets?: HandlerAssets
  logger?: Logger
  fetch?: typeof fetch
  gatewayTimeoutMs?: number
  /** single_trade_query poll gap for windows that closed (default 5 s). */
  pollIntervalMs?: number
  /** How often the outbox looks for due deliveries (default 1 s). */
  outboxIntervalMs?: number
  /** Gaps between forwarding attempts, ms (default the gateway's 4m…15h). */
  retryGapsMs?: readonly number[]
  /**
   * How long an outbox delivery stays leased to this process (default 30 s); on a shared
   * PostgreSQL store, a killed process's deliveries are taken over after it.
   */
  outboxLeaseMs?: number
  sessionTtlMs?: number
  rateLimits?: SigningServerAppDeps['rateLimits']
  /** See `SigningServerAppDeps.trustedProxies`. */
  trustedProxies?: readonly string[]
  /** See `SigningServerAppDeps.rateLimitStore`. */
  rateLimitStore?: RateLimitStore
  /** `false`: no `GET /metrics` (default on). */
  metrics?: boolean
  now?: () => number
  /** A request must have fully arrived within this time (slow-loris guard); default 30 s. */
  requestTimeoutMs?: number
  /**
   * The `Host` header values answered; any other gets 421 `misdirected-host` (DNS rebinding guard).
   * Default: the public origin's host (`hostsOfOrigin`: every loopback name with the port for a
   * loopback origin); without a public origin, the loopback names with the listening port.
   */
  allowedHosts?: readonly string[]
}

/** A built (not yet listening) signing server: its app, its parts, and the loops to start. */
export interface SigningServer {
  app: Hono
  store: SessionStore
  sessions: SessionService
  partners: PartnerRegistry
  /** Starts the poller and the outbox. */
  startBackground(): void
  /** Runs one poller round and one outbox round now (tests). */
  runBackgroundOnce(): Promise<void>
  /** The start of a shutdown: `/readyz` answers 503 and long polls answer now; everything else still works. */
  beginShutdown(): void
  close(): Promise<void>
}

/** Builds a signing server from configuration: store, partners, gateway clients, services, app. */
export async function createSigningServer(
  config: SigningServerConfig & { publicOrigin: string },
): Promise<SigningServer> {
  const logger = config.logger ?? createLogger({ name: 'signing-server' })
  const partners = await createPartnerRegistry(config.partners)
  if (partners.list().length === 0) throw new HttpProblem(500, 'no-partners', 'No partner is configured.')
  const store = config.store ?? (await openSessionStoreAt(config.dbPath))
  const metrics =
    config.metrics === false
      ? undefined
      : createPaymentAppMetrics({
          sessionCounts: () => store.sessionCounts(),
          outbox: () => store.pendingOutbox(),
          ...(config.now ? { now: config.now } : {}),
        })
  const clients = new Map<string, SessionGateway>()
  const gateway = (partner: string): SessionGateway => {
    let client = clients.get(partner)
    if (!client) {
      const info = partners.get(partner)
      if (!info) throw new RangeError(`partner ${partner} is not configured`)
      const keys = partners.gatewayKeys(partner)
      const transport = {
        gatewayUrl: info.gatewayUrl ?? config.gatewayUrl,
        ...(config.fetch ? { fetch: config.fetch } : {}),
        ...(config.gatewayTimeoutMs ? { timeoutMs: config.gatewayTimeoutMs } : {}),
      }
      // Each partner chooses its gateway by configuration, and may name its own gateway.do.
      client =
        info.kind === 'openapi'
          ? openapiSessionGateway(
              createOpenapiClient({
                ...transport,
                appId: info.appId ?? '',
                privateKey: keys.privateKey ?? '',
                publicKey: keys.publicKey ?? '',
                certificates: partners.gatewayCertificates(partner),
                signType: info.signType === 'RSA' ? 'RSA' : 'RSA2',
              }),
            )
          : mapiSessionGateway(
              createMapiClient({ ...transport, partner, sellerId: info.sellerId, keys, signType: info.signType }),
              keys,
              info.signType,
            )
      clients.set(partner, client)
    }
    return client
  }
  const events = new SessionEvents()
  const now = config.now
  const sessions = createSessionService({
    store,
    partners,
    gateway,
    publicOrigin: config.publicOrigin,
    events,
    logger,
    ...(now ? { now } : {}),
    ...(config.sessionTtlMs ? { sessionTtlMs: config.sessionTtlMs } : {}),
    ...(config.pollIntervalMs ? { pollIntervalMs: config.pollIntervalMs } : {}),
    // Several processes share a PostgreSQL store: a session settled by another wakes no event here.
    ...(store.kind === 'postgres' ? { recheckMs: 1_000 } : {}),
  })
  const runOutbox = createOutboxDispatcher({
    store,
    logger,
    ...(config.fetch ? { fetch: config.fetch } : {}),
    ...(now ? { now } : {}),
    ...(config.retryGapsMs ? { retryGapsMs: config.retryGapsMs } : {}),
    onDelivery: (outcome) => metrics?.delivery(outcome),
    ...(config.outboxLeaseMs ? { leaseMs: config.outboxLeaseMs } : {}),
  })
  let outboxLoop: Loop | undefined
  let pollLoop: Loop | undefined
  const receiveVerified = createNotifyReceiver({
    store,
    partners,
    gateway,
    sessions,
    logger,
    ...(now ? { now } : {}),
    onQueued: () => outboxLoop?.kick(),
  })
  const receiveNotify: typeof receiveVerified = async (...args) => {
    metrics?.notify('received')
    const answer = await receiveVerified(...args)
    if (answer === NOTIFY_ACK) metrics?.notify('verified')
    return answer
  }
  const shutdown = new AbortController()
  let closed = false
  const readiness = async () => {
    if (shutdown.signal.aborted) return 'The server is shutting down.'
    if (closed) return 'The server is closed.'
    let migrations
    try {
      migrations = await store.migrationStatus()
    } catch {
      return 'The database does not answer.'
    }
    if (migrations.pending > 0) return `The database lacks ${migrations.pending} migration(s).`
    return { ready: { store: store.kind, migrations: { applied: true, version: migrations.version } } }
  }
  const app = createSigningServerApp({
    sessions,
    receiveNotify,
    partners,
    gatewayOrigin: new URL(config.gatewayUrl).origin,
    logger,
    readiness,
    shutdownSignal: shutdown.signal,
    metrics,
    publicOrigin: config.publicOrigin,
    hosts: config.allowedHosts ?? hostsOfOrigin(config.publicOrigin),
    handlerAssets: config.handlerAssets,
    polyfillAssets: config.polyfillAssets,
    ...(config.rateLimits !== undefined ? { rateLimits: config.rateLimits } : {}),
    trustedProxies: config.trustedProxies,
    // On a shared PostgreSQL store the limits are shared too: one client is one client cluster-wide.
    rateLimitStore:
      config.rateLimitStore ?? (store.sharedPool ? { pool: store.sharedPool, tableCreated: true } : undefined),
  })
  return {
    app,
    store,
    sessions,
    partners,
    startBackground() {
      pollLoop ??= startLoop('poller', () => sessions.pollOnce(), config.pollIntervalMs ?? 5_000, logger)
      outboxLoop ??= startLoop('outbox', runOutbox, config.outboxIntervalMs ?? 1_000, logger)
    },
    async runBackgroundOnce() {
      await sessions.pollOnce()
      await runOutbox()
    },
    beginShutdown() {
      shutdown.abort()
    },
    async close() {
      shutdown.abort()
      await Promise.all([pollLoop?.stop(), outboxLoop?.stop()])
      closed = true
      metrics?.close()
      await store.close()
    },
  }
}

/** A listening signing server. */
export interface RunningSigningServer {
  url: string
  server: SigningServer
  /** Stops at once: open connections are cut, then the loops and the store close. */
  close(): Promise<void>
  /**
   * Stops gracefully (SIGTERM): stops accepting connections, answers 503 on `/readyz`, lets the
   * requests in flight finish for up to `timeoutMs` (default 10 s; long polls answer at once),
   * closes each connection as it goes idle, cuts what is left at the deadline, then closes the
   * loops and the store. `drained` is false when requests had to be cut (`cut` of them).
   */
  shutdown(timeoutMs?: number): Promise<{ drained: boolean; cut: number }>
}

/**
 * Starts the signing server: listens (port 0 allowed), then builds the app with the real
 * origin so return_url and notify_url point at it, and starts the background loops.
 */
export async function startSigningServer(config: SigningServerConfig): Promise<RunningSigningServer> {
  // The app needs the real port (return_url, notify_url), so it is plugged in after listening.
  const ref: { handler?: (request: Request) => Response | Promise<Response> } = {}
  const hostname = config.hostname ?? '127.0.0.1'
  const listener = serve({
    fetch: (request: Request) =>
      ref.handler ? ref.handler(request) : new Response('starting', { status: 503, headers: STARTING_HEADERS }),
    port: config.port ?? 4200,
    hostname,
    overrideGlobalObjects: false,
    serverOptions: slowRequestLimits(config.requestTimeoutMs),
  })
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('listening', () => resolve((listener.address() as AddressInfo).port))
    listener.once('error', reject)
  })
  const http = listener as unknown as HttpServer
  answerClientErrors(http)
  // Responses in flight, so a drain can wait for them and tell their clients not to keep the connection.
  const active = new Set<ServerResponse>()
  let draining = false
  http.on('request', (_request, response: ServerResponse) => {
    active.add(response)
    if (draining) response.setHeader('connection', 'close')
    response.once('close', () => active.delete(response))
  })
  const closeListener = () =>
    new Promise<void>((resolve) => {
      http.closeAllConnections()
      listener.close(() => resolve())
    })
  const url = `http://${hostname === '127.0.0.1' ? 'localhost' : hostname}:${port}`
  let server: SigningServer
  try {
    // Without a public origin, the server is reached on loopback: by any loopback name, on this port.
    const allowedHosts =
      config.allowedHosts ??
      (config.publicOrigin ? undefined : [...new Set([...hostsOfOrigin(url), ...loopbackHosts(port)])])
    server = await createSigningServer({
      ...config,
      publicOrigin: config.publicOrigin ?? url,
      ...(allowedHosts ? { allowedHosts } : {}),
    })
  } catch (error) {
    await closeListener()
    throw error
  }
  ref.handler = (request) => server.app.fetch(request)
  server.startBackground()
  return {
    url,
    server,
    async close() {
      await closeListener()
      await server.close()
    },
    async shutdown(timeoutMs = 10_000) {
      draining = true
      server.beginShutdown()
      for (const response of active) if (!response.headersSent) response.setHeader('connection', 'close')
      // close() stops accepting and resolves once every connection has ended.
      const allClosed = new Promise<void>((resolve) => listener.close(() => resolve()))
      http.closeIdleConnections()
      const sweep = setInterval(() => http.closeIdleConnections(), 50)
      let timer: ReturnType<typeof setTimeout> | undefined
      const drained = await Promise.race([
        allClosed.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ])
      clearInterval(sweep)
      clearTimeout(timer)
      const cut = drained ? 0 : active.size
      if (!drained) {
        http.closeAllConnections()
        await allClosed
      }
      await server.close()
      return { drained, cut }
    },
  }
}
