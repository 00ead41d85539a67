import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ORDER_ERROR_STATUS } from '@alipay-payment-handler/merchant'
import { PROBLEM_BASE } from '@alipay-payment-handler/server-runtime'

/** Prefix of every diagnostic the demo merchant writes. */
export const MERCHANT_PREFIX = '[alipay-merchant]'

/**
 * HTTP status for each stable error code the order service or the shop throws. Anything not
 * listed is a 500: the page then shows a generic message and the log has the code.
 */
const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  ...ORDER_ERROR_STATUS,
  CART_EMPTY: 400,
  UNKNOWN_PRODUCT: 400,
  BAD_QUANTITY: 400,
  BAD_REQUEST: 400,
  BODY_TOO_LARGE: 413,
  OPERATOR_REQUIRED: 403,
  OPERATOR_TOKEN_WRONG: 403,
  ORDER_VIEW_DENIED: 403,
  NOT_FOUND: 404,
  NOT_READY: 503,
}

/** The problem+json for a thrown error with a stable `code`; the detail never carries key material. */
export function problemFor(c: Context, error: unknown): Response {
  const code = errorCode(error)
  const status = STATUS_BY_CODE[code] ?? 500
  const detail = status === 500 ? 'The shop could not finish this request.' : errorMessage(error)
  return c.body(JSON.stringify({ type: PROBLEM_BASE + code, title: code, status, detail, code }), status, {
    'content-type': 'application/problem+json; charset=utf-8',
  })
}

/** The stable code of anything thrown; `INTERNAL` when it has none. */
export function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' && /^[A-Za-z][\w-]*$/.test(code) ? code : 'INTERNAL'
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^\[[\w-]+\]\s*/, '') : String(error)
}

/** An error with a stable code, for the shop's own failures. */
export class ShopError extends Error {
  override name = 'ShopError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
