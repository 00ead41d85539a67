import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'

/**
 * CSRF protection for the state-changing `/_sandbox/*` endpoints. Browsers send `Origin` (and
 * `Sec-Fetch-Site`) on every cross-origin POST, so a request that names another origin is refused;
 * tools such as curl or the CLI send neither and pass. Inspector forms also carry a per-process
 * token, checked with `checkFormToken`.
 */
export class AdminGuard {
  /** The token the inspector's forms carry; new for every sandbox process. */
  readonly token = randomBytes(24).toString('base64url')

  /** Middleware refusing cross-origin writes with 403 `CROSS_ORIGIN_REFUSED`. */
  sameOrigin(): MiddlewareHandler {
    return async (c, next) => {
      if (c.req.method === 'GET' || c.req.method === 'HEAD' || isSameOrigin(c)) return next()
      return c.json(
        { error: 'CROSS_ORIGIN_REFUSED', message: 'sandbox admin endpoints only accept same-origin requests' },
        403,
      )
    }
  }

  /** Whether a form's `csrf` field is this process's token (constant-time comparison). */
  checkFormToken(value: string | undefined): boolean {
    if (value === undefined) return false
    const a = Buffer.from(value)
    const b = Buffer.from(this.token)
    return a.length === b.length && timingSafeEqual(a, b)
  }
}

/** No `Origin`/`Sec-Fetch-Site` (a tool), or both name this very origin. */
export function isSameOrigin(c: Context): boolean {
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  const origin = c.req.header('origin')
  if (origin === undefined) return true
  return origin === new URL(c.req.url).origin
}
