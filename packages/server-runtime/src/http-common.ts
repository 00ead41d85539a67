import type { Hono, MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { STATUS_CODES, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from './logger.js'
import { HttpProblem, problemResponse } from './problem.js'

/**
 * The strict CSP of every page the servers answer. `form-action` must name the gateway, because
 * the checkout's auto-submitting form goes there; nothing else leaves the origin.
 */
export function strictCsp(formTargets: readonly string[] = [], scriptNonce?: string): string {
  return [
    "default-src 'none'",
    `script-src 'self'${scriptNonce ? ` 'nonce-${scriptNonce}'` : ''}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ')
}

/**
 * Security headers for every response, plus the strict CSP unless a route already set its own
 * (the handler's pages may). COOP stays off: the polyfill's popup needs `window.opener`.
 */
export function securityHeaders(formTargets: readonly string[]): MiddlewareHandler {
  const headers = secureHeaders({
    // nosniff on every answer: a JSON or text body is never run as a script or a page.
    xContentTypeOptions: true,
    crossOriginOpenerPolicy: false,
    // Chromium fetches the payment method manifest from the merchant page's context.
    crossOriginResourcePolicy: false,
    strictTransportSecurity: false,
  })
  const csp = strictCsp(formTargets)
  return async (c, next) => {
    await headers(c, async () => {
      await next()
      if (!c.res.headers.has('content-security-policy')) c.res.headers.set('content-security-policy', csp)
    })
  }
}

/**
 * Refuses bodies over `maxSize` bytes with a 413 problem, whether they declare a Content-Length or
 * arrive chunked. Written here rather than with hono/body-limit: that one rebuilds a chunked
 * request with `new Request(c.req.raw, …)`, which throws on the node server's own request objects
 * (servers here run with `overrideGlobalObjects: false`), so every chunked POST answered 500.
 */
export function limitBody(
  maxSize: number,
  onTooLarge?: (c: Parameters<MiddlewareHandler>[0]) => Response,
): MiddlewareHandler {
  const tooLarge = (c: Parameters<MiddlewareHandler>[0]) =>
    onTooLarge?.(c) ??
    problemResponse(c, new HttpProblem(413, 'body-too-large', `Bodies are limited to ${maxSize} bytes.`))
  return async (c, next) => {
    const raw = c.req.raw
    // The headers decide first: touching `raw.body` makes the node server build a full Request
    // with a web stream for it, where `c.req.text()` alone reads the socket directly. Doing that
    // for every notify was a tenth of the relay's allocations (a heap sampling of the bench run).
    // Without Transfer-Encoding, HTTP/1.1 has a body only when Content-Length says so.
    if (!raw.headers.has('transfer-encoding')) {
      const declared = raw.headers.get('content-length')
      return declared !== null && Number(declared) > maxSize ? tooLarge(c) : next()
    }
    if (!raw.body) return next()
    const reader = raw.body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxSize) {
        await reader.cancel().catch(() => undefined)
        return tooLarge(c)
      }
      chunks.push(value)
    }
    const body = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      body.set(chunk, offset)
      offset += chunk.byteLength
    }
    const headers = new Headers(raw.headers)
    headers.delete('transfer-encoding')
    headers.set('content-length', String(size))
    c.req.raw = new Request(raw.url, { method: raw.method, headers, body, signal: raw.signal })
    return next()
  }
}

/** problem+json for thrown HttpProblems, unknown routes, and (without details) anything else. */
export function installErrorHandling(app: Hono, logger: Logger): void {
  app.onError((error, c) => {
    if (error instanceof HttpProblem) return problemResponse(c, error)
    logger.error('http.unhandled', { path: c.req.path, error })
    return problemResponse(c, new HttpProblem(500, 'internal-error', 'Something went wrong on our side.'))
  })
  app.notFound((c) => problemResponse(c, new HttpProblem(404, 'not-found', `No route ${c.req.method} ${c.req.path}.`)))
}

/** Methods that change state; HTTP defines the others (GET, HEAD, OPTIONS) as safe, which they must stay. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Refuses cross-site state changes (CSRF) with a 403 `cross-site-request`. Browsers send `Origin`
 * on every cross-origin POST, and `Sec-Fetch-Site` on every request; a form on another site
 * posting `text/plain` needs no preflight, so CORS alone does not stop it. Server-to-server calls
 * (the gateway's notifies) send neither header and pass; they are verified by signature instead.
 * The request's own `Host` always counts as same-origin; `allowedOrigins` adds public origins a
 * proxy puts in front. Trusting the Host is only safe behind `refuseMisdirectedHost`: a DNS
 * rebinding page sends its own name as both Host and Origin.
 */
export function refuseCrossSite(
  options: { allowedOrigins?: readonly string[]; except?: RegExp } = {},
): MiddlewareHandler {
  const allowed = new Set(options.allowedOrigins ?? [])
  return async (c, next) => {
    if (!UNSAFE_METHODS.has(c.req.method) || options.except?.test(c.req.path)) return next()
    const site = c.req.header('sec-fetch-site')
    const origin = c.req.header('origin')
    let foreign = site === 'cross-site' || site === 'same-site'
    if (!foreign && origin !== undefined && !allowed.has(origin)) {
      let host: string | undefined
      try {
        host = new URL(origin).host
      } catch {
        host = undefined
      }
      // "null" (sandboxed frames, file:) and any other host are foreign.
      foreign = host === undefined || host !== c.req.header('host')
    }
    if (foreign) {
      return problemResponse(
        c,
        new HttpProblem(403, 'cross-site-request', 'State-changing requests must come from this site’s own pages.'),
      )
    }
    return next()
  }
}

/**
 * Refuses state changes whose body is not declared `application/json` with a 415 `json-required`.
 * `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data` are the types a page
 * on another site may send without a CORS preflight (a "simple request"); `application/json` never
 * is one, so a JSON-only route is out of reach of forms and no-cors fetches whatever the browser
 * sends as `Origin`. Bodiless requests must declare it too (the sessions API's clients always do).
 */
export function requireJson(options: { except?: RegExp } = {}): MiddlewareHandler {
  return async (c, next) => {
    if (!UNSAFE_METHODS.has(c.req.method) || options.except?.test(c.req.path)) return next()
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type === 'application/json') return next()
    return problemResponse(
      c,
      new HttpProblem(
        415,
        'json-required',
        'This route takes an application/json body (Content-Type: application/json).',
      ),
    )
  }
}

/** Loopback names and addresses, as `URL.hostname` spells them. */
const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]']

/** Whether an origin is a loopback origin (`http://localhost:4200`, `http://127.0.0.1:4200`, `http://[::1]:4200`). */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    return LOOPBACK_HOSTNAMES.includes(new URL(origin).hostname)
  } catch {
    return false
  }
}

/** `Host` values of every loopback name with `port` (`localhost:4200`, `127.0.0.1:4200`, `[::1]:4200`). */
export function loopbackHosts(port: number | string): string[] {
  return LOOPBACK_HOSTNAMES.map((name) => `${name}:${port}`)
}

/**
 * The `Host` values that name `origin`: its host, with and without the scheme's default port
 * (`pay.example.com` and `pay.example.com:443` for `https://pay.example.com`). For a loopback
 * origin, every loopback name with its port: browsers, tests and tools reach a local server as
 * `localhost` or `127.0.0.1` alike, and no attacker can rebind those names.
 */
export function hostsOfOrigin(origin: string): string[] {
  const url = new URL(origin)
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const names = LOOPBACK_HOSTNAMES.includes(url.hostname) ? LOOPBACK_HOSTNAMES : [url.hostname]
  return names.flatMap((name) => (url.port ? [`${name}:${port}`] : [name, `${name}:${port}`]))
}

/**
 * Answers 421 Misdirected Request (problem+json, `code` `misdirected-host`) to any request whose
 * `Host` is not one of `hosts` (see `hostsOfOrigin`, `loopbackHosts`): the DNS rebinding guard. A
 * page on the attacker's name, re-resolved to this server's address, is same-origin with itself:
 * its requests carry `Host: evil.example` and `Origin: http://evil.example`, so `refuseCrossSite`
 * and the browser's same-origin policy both let it through, and only the Host tells it apart. The
 * URL's authority is checked too (an absolute-form request target wins over Host in Node). Paths
 * matching `except` are answered whatever the Host (health probes, which orchestrators send to the
 * pod's address).
 */
export function refuseMisdirectedHost(options: { hosts: readonly string[]; except?: RegExp }): MiddlewareHandler {
  const allowed = new Set(options.hosts.map((host) => host.toLowerCase()))
  const shown = options.hosts[0] ?? 'its public host'
  return async (c, next) => {
    if (options.except?.test(c.req.path)) return next()
    const header = c.req.header('host')?.toLowerCase()
    let authority: string | undefined
    try {
      authority = new URL(c.req.url).host
    } catch {
      authority = undefined
    }
    if (authority !== undefined && allowed.has(authority) && (header === undefined || allowed.has(header)))
      return next()
    return problemResponse(
      c,
      new HttpProblem(
        421,
        'misdirected-host',
        `This server answers only for ${shown}; the request named another host.`,
        {
          code: 'misdirected-host',
        },
      ),
    )
  }
}

/** The status of Node's own answer to a request it could not parse or wait for (as `node:http` picks it). */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
}

/**
 * Node answers requests it cannot parse (400), oversized headers (431) and slow-loris requests
 * (408) itself, before any app sees them, without the app's headers. This answers the same
 * statuses the same way (status line, `Connection: close`, no body, then the socket is closed),
 * with `X-Content-Type-Options: nosniff`, so no answer of the server goes without it.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Never write into a response already under way, nor to a peer that has gone.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (socket.writable && !inFlight?.headersSent && error.code !== 'ECONNRESET') {
      const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n`,
      )
    }
    socket.destroy()
  })
}

/** How long a client may take to send a whole request (headers and body) by default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/**
 * `http.createServer` options that close slow-loris connections: a request whose headers and body
 * have not fully arrived after `requestTimeoutMs` gets a 408 and the socket is closed. Node checks
 * at `connectionsCheckingInterval` (30 s by default, longer than a short timeout), so it is tied
 * to the timeout. Long polls are unaffected: the limit covers receiving, not answering.
 */
export function slowRequestLimits(requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): {
  requestTimeout: number
  headersTimeout: number
  connectionsCheckingInterval: number
} {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: Math.min(requestTimeoutMs, 20_000),
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
  }
}
