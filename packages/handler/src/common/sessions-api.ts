import type { CheckoutOutcome, CheckoutRequest } from '@alipay-payment-handler/protocol'
import { HandlerError } from './errors.js'

/** Session status on the signing server (docs/decisions/0002-sessions-api.md). */
export type SessionStatus = 'created' | 'at_cashier' | 'paid' | 'failed' | 'cancelled' | 'expired' | 'aborted'

/** The cashier hand-off, as `POST /api/sessions` answers it. */
export interface CreatedSession {
  sessionId: string
  status: SessionStatus
  cashierUrl?: string
  form?: { action: string; method: string; fields: Record<string, string> }
  /** When the order stops being payable (it_b_pay): ISO text or epoch milliseconds. */
  expiresAt?: string | number
  merchantOrigin?: string
  subject?: string
  totalFee?: string
}

/** `GET /api/sessions/:id` and the answers of the return, cancel and abort routes. */
export interface SessionState {
  sessionId?: string
  status: SessionStatus
  outcome?: CheckoutOutcome
  /** What the server created the session for (older servers leave them out). */
  paymentRequestId?: string
  merchantOrigin?: string
  outTradeNo?: string
  totalFee?: string
}

/** What the checkout and the worker call on the signing server. */
export interface SessionsApi {
  create(request: CheckoutRequest, device?: 'pc' | 'wap'): Promise<CreatedSession>
  get(sessionId: string, waitSeconds?: number): Promise<SessionState>
  submitReturn(sessionId: string, query: string): Promise<SessionState>
  cancel(sessionId: string): Promise<SessionState>
  abort(sessionId: string): Promise<SessionState>
}

export interface SessionsApiOptions {
  /** The payment app origin; the API is same-origin with the handler's pages and worker. */
  baseUrl: string
  fetch?: typeof fetch
  /** Per call, on top of any long-poll wait. The signing server answers in well under a second. */
  timeoutMs?: number
}

// Long enough for the server's gateway round trip (notify_verify, single_trade_query), short
// enough that a shopper facing a dead server gets the error page quickly.
const DEFAULT_TIMEOUT_MS = 15_000

const PROBLEM_TYPE_PREFIX = 'https://alipay-payment-handler.dev/problems/'

/**
 * The stable code of a problem+json answer: the last segment of its `type`
 * (`…/problems/order-expired` → `order-expired`), or `http-<status>` when there is none.
 */
export function problemCode(body: unknown, status: number): string {
  const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined
  if (typeof type === 'string' && type.length > 0) {
    const tail = type.startsWith(PROBLEM_TYPE_PREFIX) ? type.slice(PROBLEM_TYPE_PREFIX.length) : type.split('/').pop()
    if (tail) return tail
  }
  return `http-${status}`
}

/** A client of the signing server's sessions API. Errors are HandlerErrors with a stable code. */
export function createSessionsApi(options: SessionsApiOptions): SessionsApi {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, extraMs = 0): Promise<T> {
    const url = new URL(path, options.baseUrl).href
    let response: Response
    try {
      response = await doFetch(url, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        credentials: 'same-origin',
        signal: AbortSignal.timeout(timeoutMs + extraMs),
      })
    } catch (error) {
      throw new HandlerError('SERVER_UNREACHABLE', `The signing server at ${url} did not answer.`, {
        url,
        cause: error instanceof Error ? error.name : String(error),
      })
    }
    const json: unknown = await response.json().catch(() => undefined)
    if (response.ok && json !== undefined) return json as T
    if (response.status >= 500 || json === undefined) {
      throw new HandlerError(
        'SERVER_UNREACHABLE',
        `The signing server answered ${response.status} for ${method} ${path}.`,
        {
          url,
          status: response.status,
        },
      )
    }
    const problem = problemCode(json, response.status)
    const { title, detail } = json as { title?: unknown; detail?: unknown }
    throw new HandlerError('SESSION_REJECTED', `The signing server refused ${method} ${path}: ${problem}.`, {
      status: response.status,
      problem,
      title: typeof title === 'string' ? title : undefined,
      detail: typeof detail === 'string' ? detail : undefined,
    })
  }

  const id = (sessionId: string) => encodeURIComponent(sessionId)
  return {
    create: (request, device) => call('POST', '/api/sessions', device ? { ...request, device } : request),
    get: (sessionId, waitSeconds) =>
      waitSeconds
        ? call('GET', `/api/sessions/${id(sessionId)}?wait=${waitSeconds}`, undefined, waitSeconds * 1000)
        : call('GET', `/api/sessions/${id(sessionId)}`),
    submitReturn: (sessionId, query) => call('POST', `/api/sessions/${id(sessionId)}/return`, { query }),
    cancel: (sessionId) => call('POST', `/api/sessions/${id(sessionId)}/cancel`, {}),
    abort: (sessionId) => call('POST', `/api/sessions/${id(sessionId)}/abort`, {}),
  }
}
