/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** A tiny structured logger: one JSON line per event. */
export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

// Any field whose name looks like key material is replaced, at any depth, before printing.
const SECRET_NAME = /key|secret|password|private|pem|^sign$/i

/** Returns a copy of `value` with key material replaced by "[redacted]". */
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

/** A JSON-lines logger writing to `write` (stderr by default), with secrets redacted. */
export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; name?: string } = {},
): Logger {
  const min = LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const log =
    (level: LogLevel) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[level] < min) return
      const safe = redact(fields) as Record<string, unknown>
      write(JSON.stringify({ time: new Date().toISOString(), level, name: options.name ?? 'alipay', event, ...safe }))
    }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

/** A logger that drops everything (tests), or collects lines when given an array. */
export function silentLogger(lines?: string[]): Logger {
  return createLogger({ level: 'debug', write: (line) => lines?.push(line) })
}
