import type { Hono, MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
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
    if (!raw.body) return next()
    const declared = raw.headers.get('content-length')
    if (declared !== null && !raw.headers.has('transfer-encoding')) {
      return Number(declared) > maxSize ? tooLarge(c) : next()
    }
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

/** Methods that change state; the others must be safe (RFC 9110 §9.2.1). */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Refuses cross-site state changes (CSRF) with a 403 `cross-site-request`. Browsers send `Origin`
 * on every cross-origin POST, and `Sec-Fetch-Site` on every request; a form on another site
 * posting `text/plain` needs no preflight, so CORS alone does not stop it. Server-to-server calls
 * (the gateway's notifies) send neither header and pass; they are verified by signature instead.
 * The request's own `Host` always counts as same-origin; `allowedOrigins` adds public origins a
 * proxy puts in front.
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
