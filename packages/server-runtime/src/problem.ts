import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Base of every problem `type` URI the servers answer (RFC 9457). */
export const PROBLEM_BASE = 'https://alipay-payment-handler.dev/problems/'

/** Prefix of every diagnostic the demo server writes. */
export const SERVER_PREFIX = '[alipay-server]'

/**
 * An HTTP failure that knows its status and its problem document. `code` is stable (kebab-case,
 * the last segment of `type`); callers and tests branch on it, never on `detail`.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem'
  readonly status: ContentfulStatusCode
  readonly code: string
  readonly extras: Readonly<Record<string, unknown>>

  constructor(status: ContentfulStatusCode, code: string, detail: string, extras: Record<string, unknown> = {}) {
    super(detail)
    this.status = status
    this.code = code
    this.extras = extras
  }

  /** The `application/problem+json` body. */
  toJSON(): Record<string, unknown> {
    return {
      type: PROBLEM_BASE + this.code,
      title: this.code.replace(/-/g, ' '),
      status: this.status,
      detail: this.message,
      ...this.extras,
    }
  }
}

/** Writes a problem document as the response. */
export function problemResponse(c: Context, problem: HttpProblem): Response {
  return c.body(JSON.stringify(problem.toJSON()), problem.status, {
    'content-type': 'application/problem+json; charset=utf-8',
  })
}
