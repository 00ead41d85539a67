import { randomUUID } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino'

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * A structured logger: one JSON line per event (`{"level":"info","time":…,"name":…,"event":…}`
 * plus the fields), on pino. `child` adds fields to every line (a request id, a session id).
 */
export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
  child(bindings: Record<string, unknown>): Logger
}

// Any field whose name looks like key material, a signature or a buyer's identity is replaced, at
// any depth, before printing: the names are the ones the protocols and the configuration use.
const SECRET_NAME =
  /key|secret|password|private|pem|token|authorization|cookie|^sign$|signature|^buyer_(id|email|logon_id|user_id|open_id)$|^buyerId$/i

/**
 * The same rule as paths, for pino's own redaction: it runs on the bindings of child loggers too,
 * which the name-based pass does not see.
 */
export const REDACTED_PATHS = [
  'sign',
  '*.sign',
  '*.*.sign',
  'signature',
  '*.signature',
  'buyer_id',
  '*.buyer_id',
  '*.*.buyer_id',
  'buyer_email',
  '*.buyer_email',
  'buyer_logon_id',
  '*.buyer_logon_id',
  'md5Key',
  '*.md5Key',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
]

/** Returns a copy of `value` with key material, signatures and buyer ids replaced by "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value
  if (value instanceof Error)
    return { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [name, item] of Object.entries(value)) {
    out[name] = SECRET_NAME.test(name) ? '[redacted]' : redact(item, depth + 1)
  }
  return out
}

/**
 * `levels` answers which levels print; `base()` is the pino logger, made on first use. A child is
 * made per request (its request id), but most requests log nothing at the usual levels, and a pino
 * child (its bindings serialized and redacted) was 3 % of a notify's allocations in the relay bench.
 */
function wrap(levels: PinoLogger, base: () => PinoLogger): Logger {
  const at =
    (level: LogLevel) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      if (levels.isLevelEnabled(level)) base()[level](redact(fields) as Record<string, unknown>, event)
    }
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (bindings) => {
      const own = redact(bindings) as Record<string, unknown>
      let child: PinoLogger | undefined
      // A child logs at its parent's level, so the parent can answer for it until it exists.
      const made = () => (child ??= base().child(own))
      return wrap(levels, made)
    },
  }
}

/**
 * A pino logger writing JSON lines to `write` (stderr by default, synchronously, so a crash loses
 * nothing), with secrets redacted by name and by path. Ship the lines as they are: every field is
 * a top-level key, `time` is ISO 8601, `level` a name.
 */
export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; name?: string } = {},
): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const base = pino(
    {
      name: options.name ?? 'alipay',
      level: options.level ?? 'info',
      messageKey: 'event',
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) },
  )
  return wrap(base, () => base)
}

/** A logger that drops everything (tests), or collects lines when given an array. */
export function silentLogger(lines?: string[]): Logger {
  return createLogger({ level: 'debug', write: (line) => lines?.push(line) })
}

/** What `requestLogging` puts on the Hono context. */
export interface RequestLogVariables {
  requestId: string
  logger: Logger
}

/** A request id a client or a proxy may hand in; anything else is replaced by a fresh one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/

/**
 * Gives each request an id (the proxy's `X-Request-Id` when it sent a sane one, else a UUID),
 * answers it in `X-Request-Id`, puts a child logger carrying it on the context (`c.get('logger')`),
 * and logs one `http.request` line per answer with the route pattern, status and duration.
 */
export function requestLogging(logger: Logger): MiddlewareHandler<{ Variables: RequestLogVariables }> {
  return async (c, next) => {
    const given = c.req.header('x-request-id')
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID()
    const child = logger.child({ requestId })
    c.set('requestId', requestId)
    c.set('logger', child)
    const started = performance.now()
    try {
      await next()
    } finally {
      c.res.headers.set('x-request-id', requestId)
      child.debug('http.request', {
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      })
    }
  }
}
