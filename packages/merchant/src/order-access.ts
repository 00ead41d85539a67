import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Who may call the order routes. The merchant decides who its operators are (a staff login, an
 * API token, mTLS behind its proxy…) and answers for one request; `false` is refused with 403
 * `OPERATOR_REQUIRED`. Without one, the operator routes refuse every caller.
 */
export type AuthorizeOperator = (request: Request) => boolean | Promise<boolean>

/** The header a buyer's page sends an order's view token in. */
export const ORDER_VIEW_HEADER = 'order-view-token'

/** The name of the cookie that carries an order's view token (scoped to that order's path). */
export const ORDER_VIEW_COOKIE = 'order_view'

/**
 * Order-view tokens: an HMAC of the order id under a secret only the server knows, so nothing is
 * stored, the token of one order says nothing about another's, and a token outlives a restart as
 * long as the secret does.
 */
export interface OrderAccess {
  /** The token the buyer who created `orderId` gets back, and must show to read or act on it. */
  tokenFor(orderId: string): string
  /** Whether `token` is the view token of `orderId` (constant time). */
  verify(orderId: string, token: string | undefined): boolean
}

/** A secret for `createOrderAccess`: 32 random bytes, base64url. Keep it (a file, a secret store) to keep tokens valid across restarts. */
export function newOrderViewSecret(): string {
  return randomBytes(32).toString('base64url')
}

export function createOrderAccess(secret: string | Uint8Array): OrderAccess {
  if (secret.length < 16) throw new TypeError('createOrderAccess: the secret must be at least 16 characters or bytes')
  const tokenFor = (orderId: string) => createHmac('sha256', secret).update(`order-view:${orderId}`).digest('base64url')
  return {
    tokenFor,
    verify(orderId, token) {
      return token !== undefined && sameSecret(token, tokenFor(orderId))
    },
  }
}

/** Constant-time string comparison; unequal lengths are simply unequal. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The credential of `Authorization: Bearer <token>`, if any. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')
  return match?.[1]
}

/** A cookie's value from the request's `Cookie` header. */
export function cookieValue(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * The simplest operator check: `Authorization: Bearer <token>` must be `token` (at least 24
 * characters; compared in constant time). For a single operator or a back-office server.
 */
export function operatorTokenAuthorizer(token: string): AuthorizeOperator {
  if (token.length < 24) throw new TypeError('operatorTokenAuthorizer: the token must be at least 24 characters')
  return (request) => sameSecret(bearerToken(request) ?? '', token)
}

/** The view token a request shows for an order: the header, else the order's cookie. */
export function presentedViewToken(request: Request): string | undefined {
  return request.headers.get(ORDER_VIEW_HEADER) ?? cookieValue(request, ORDER_VIEW_COOKIE)
}

/**
 * The `Set-Cookie` value that hands the buyer's browser an order's view token, sent back only
 * to that order's routes under `pathPrefix` (e.g. `/api/orders`). HttpOnly: no script reads it.
 */
export function orderViewCookie(pathPrefix: string, orderId: string, token: string, secure: boolean): string {
  return [
    `${ORDER_VIEW_COOKIE}=${token}`,
    `Path=${pathPrefix}/${encodeURIComponent(orderId)}`,
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${7 * 24 * 3600}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ')
}
