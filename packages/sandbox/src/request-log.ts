import type { Context, MiddlewareHandler } from 'hono'
import type { Params } from '@alipay-payment-handler/protocol'
import type { SandboxDeps } from './deps.js'
import type { SandboxStore } from './store.js'

/** One request to `/gateway.do`, as the inspector's log shows it. */
export interface GatewayCall {
  id: number
  at: number
  /** mapi `service` or openapi `method`; empty when the request named neither. */
  service: string
  outTradeNo: string | null
  tradeNo: string | null
  params: Params
  /** `ok`, `failed (CODE)`, `not checked (CODE)` (refused before the signature), or `unsigned service`. */
  signCheck: string
  status: number
  /** What the gateway answered: a redirect target, an error code, or the start of the reply. */
  answer: string
}

/** One delivery attempt of a notify, with what was sent and what the merchant answered. */
export interface NotifyLogEntry {
  at: number
  notifyId: string
  kind: string
  tradeNo: string | null
  url: string
  signType: string
  params: Params
  attemptNo: number
  outcome: string
  status: number | null
  answer: string | null
  error: string | null
}

export type LogEntry = ({ type: 'call' } & GatewayCall) | ({ type: 'notify' } & NotifyLogEntry)

const SCHEMA = `
CREATE TABLE IF NOT EXISTS gateway_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, service TEXT NOT NULL, outTradeNo TEXT, tradeNo TEXT,
  params TEXT NOT NULL, signCheck TEXT NOT NULL, status INTEGER NOT NULL, answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS gateway_calls_order ON gateway_calls (outTradeNo);
`

/** Replies are kept up to this length: enough for any XML answer, not for a whole cashier page. */
const MAX_ANSWER = 2000
/** Recorded parameters are capped per value, so a hostile request cannot bloat the log. */
const MAX_VALUE = 2000

/** What the gateway learnt while handling one request, keyed by the request object. */
const drafts = new WeakMap<Request, { params?: Params; signCheck?: string }>()

function draftOf(c: Context) {
  let draft = drafts.get(c.req.raw)
  if (!draft) drafts.set(c.req.raw, (draft = {}))
  return draft
}

/** The gateway's decoded parameters of this request (decoded with the request's own charset). */
export function noteParams(c: Context, params: Params): void {
  draftOf(c).params = params
}

/** The outcome of this request's signature check. */
export function noteSignCheck(c: Context, result: string): void {
  draftOf(c).signCheck = result
}

/** The order a request is about: out_trade_no / trade_no, top level (mapi) or in biz_content (openapi). */
function orderOf(params: Params): { outTradeNo: string | null; tradeNo: string | null } {
  let biz: Record<string, unknown> = {}
  try {
    const parsed = params['biz_content'] ? (JSON.parse(params['biz_content']) as unknown) : {}
    if (typeof parsed === 'object' && parsed !== null) biz = parsed as Record<string, unknown>
  } catch {
    // not JSON: the gateway refused it; the log still shows the raw parameter
  }
  const pick = (key: string) => {
    const value = params[key] ?? biz[key]
    return typeof value === 'string' && value !== '' ? value : null
  }
  return { outTradeNo: pick('out_trade_no'), tradeNo: pick('trade_no') }
}

const capped = (params: Params): Params =>
  Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE)}…` : v]),
  )

/** Best effort for requests the gateway refused before decoding: the raw pairs, read as UTF-8. */
async function rawParams(request: Request): Promise<Params> {
  const out: Params = Object.fromEntries(new URL(request.url).searchParams)
  const type = request.headers.get('content-type') ?? ''
  if (request.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(await request.clone().text())) out[k] ??= v
  }
  return out
}

/** A one-line account of a reply. */
async function describe(response: Response): Promise<string> {
  const location = response.headers.get('location')
  if (location) return `redirect → ${location}`
  const text = await response.clone().text()
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('text/html')) {
    const code = /name="alipay-error" content="([^"]+)"/.exec(text)?.[1]
    return code ? `error page ${code}` : 'HTML page'
  }
  return text.length > MAX_ANSWER ? `${text.slice(0, MAX_ANSWER)}…` : text
}

/** The request log: every gateway call, stored beside the trades, and every notify attempt. */
export class RequestLog {
  constructor(
    private readonly store: SandboxStore,
    private readonly now: () => number,
  ) {
    store.db.exec(SCHEMA)
  }

  /** Middleware for `/gateway.do`: records the call once the gateway has answered. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const raw = c.req.raw.method === 'POST' ? await rawParams(c.req.raw) : undefined
      await next()
      const draft = drafts.get(c.req.raw) ?? {}
      const params = capped(draft.params ?? raw ?? (await rawParams(c.req.raw)))
      let { outTradeNo, tradeNo } = orderOf(params)
      if (!outTradeNo && !tradeNo && params['notify_id']) tradeNo = this.tradeOfNotify(params['notify_id'])
      if (!outTradeNo && tradeNo) outTradeNo = this.store.tradeByNo(tradeNo)?.outTradeNo ?? null
      this.store.db
        .prepare(
          `INSERT INTO gateway_calls (at, service, outTradeNo, tradeNo, params, signCheck, status, answer)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          this.now(),
          params['service'] ?? params['method'] ?? '',
          outTradeNo,
          tradeNo,
          JSON.stringify(params),
          draft.signCheck ?? 'not checked',
          c.res.status,
          await describe(c.res),
        )
    }
  }

  private tradeOfNotify(notifyId: string): string | null {
    const row = this.store.db.prepare('SELECT tradeNo FROM notifies WHERE notifyId = ?').get(notifyId) as
      { tradeNo: string | null } | undefined
    return row?.tradeNo ?? null
  }

  /** Newest first; with `outTradeNo`, only that order's calls and notify attempts. */
  entries(filter: { outTradeNo?: string | undefined; limit?: number | undefined } = {}): LogEntry[] {
    const limit = filter.limit ?? 300
    const order = filter.outTradeNo
    const calls = (
      order
        ? this.store.db
            .prepare('SELECT * FROM gateway_calls WHERE outTradeNo = ? ORDER BY id DESC LIMIT ?')
            .all(order, limit)
        : this.store.db.prepare('SELECT * FROM gateway_calls ORDER BY id DESC LIMIT ?').all(limit)
    ) as (Omit<GatewayCall, 'params'> & { params: string })[]
    const attempts = (
      order
        ? this.store.db
            .prepare(
              `SELECT a.*, n.notifyId, n.kind, n.tradeNo, n.url, n.signType, n.params FROM notify_attempts a
               JOIN notifies n ON n.id = a.notifyRowId JOIN trades t ON t.tradeNo = n.tradeNo
               WHERE t.outTradeNo = ? ORDER BY a.id DESC LIMIT ?`,
            )
            .all(order, limit)
        : this.store.db
            .prepare(
              `SELECT a.*, n.notifyId, n.kind, n.tradeNo, n.url, n.signType, n.params FROM notify_attempts a
               JOIN notifies n ON n.id = a.notifyRowId ORDER BY a.id DESC LIMIT ?`,
            )
            .all(limit)
    ) as (Record<string, unknown> & { params: string; at: number; bodyExcerpt: string | null })[]
    const entries: LogEntry[] = [
      ...calls.map((row) => ({ type: 'call' as const, ...row, params: JSON.parse(row.params) as Params })),
      ...attempts.map((row) => ({
        type: 'notify' as const,
        at: row.at,
        notifyId: row['notifyId'] as string,
        kind: row['kind'] as string,
        tradeNo: row['tradeNo'] as string | null,
        url: row['url'] as string,
        signType: row['signType'] as string,
        params: JSON.parse(row.params) as Params,
        attemptNo: row['attemptNo'] as number,
        outcome: row['outcome'] as string,
        status: row['status'] as number | null,
        answer: row.bodyExcerpt,
        error: row['error'] as string | null,
      })),
    ]
    return entries.sort((a, b) => b.at - a.at).slice(0, limit)
  }
}

const logs = new WeakMap<SandboxStore, RequestLog>()

/** The one request log of a sandbox (its store holds the table). */
export function requestLogOf(deps: SandboxDeps): RequestLog {
  let log = logs.get(deps.store)
  if (!log) logs.set(deps.store, (log = new RequestLog(deps.store, () => deps.clock.now())))
  return log
}
