import type { Hono, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import type { Logger } from './logger'
import { HttpProblem, problemResponse } from './problem'

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

/** Refuses bodies over `maxSize` bytes with a 413 problem. */
export function limitBody(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) =>
      problemResponse(c, new HttpProblem(413, 'body-too-large', `Bodies are limited to ${maxSize} bytes.`)),
  })
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
