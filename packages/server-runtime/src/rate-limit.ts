import type { MiddlewareHandler } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'
import { HttpProblem, problemResponse } from './problem.js'

/** How many requests one client may make per window. */
export interface RateLimitOptions {
  /** Requests allowed per window and client. */
  limit: number
  windowMs: number
  now?: () => number
}

function clientAddress(c: Parameters<MiddlewareHandler>[0]): string {
  try {
    // The socket's address, never X-Forwarded-For: a client can write that header itself.
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'in-process'
  }
}

/**
 * A fixed-window, in-memory rate limiter keyed by the client's socket address. One process only;
 * a deployment with several processes puts a shared limiter in front.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const now = options.now ?? Date.now
  const windows = new Map<string, { start: number; count: number }>()
  return async (c, next) => {
    const key = clientAddress(c)
    const t = now()
    let entry = windows.get(key)
    if (!entry || t - entry.start >= options.windowMs) {
      entry = { start: t, count: 0 }
      windows.set(key, entry)
      // Forget idle clients so the map cannot grow without bound.
      if (windows.size > 10_000) {
        for (const [k, w] of windows) if (t - w.start >= options.windowMs) windows.delete(k)
      }
    }
    entry.count++
    if (entry.count > options.limit) {
      const retryAfter = Math.max(1, Math.ceil((entry.start + options.windowMs - t) / 1000))
      c.header('retry-after', String(retryAfter))
      return problemResponse(
        c,
        new HttpProblem(429, 'rate-limited', `Too many requests; retry in ${retryAfter} s.`, { retryAfter }),
      )
    }
    await next()
  }
}
