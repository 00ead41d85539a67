import type { Context } from 'hono'
import {
  decodeForm,
  normalizeCharset,
  ProtocolError,
  type Charset,
  type Params,
} from '@alipay-payment-handler/protocol'
import type { Refusal } from './trades.js'

/** A decoded gateway request: every parameter decoded exactly once, in the declared charset. */
export interface GatewayRequest {
  params: Params
  /** The charset the bytes were decoded with. */
  charset: Charset
}

// Without `_input_charset` in the URL, the gateway cannot know a POST body's charset before
// decoding it; we decode such bodies as GBK, the gateway's historic default [inferred].
const DEFAULT_CHARSET: Charset = 'gbk'

/** Reads `_input_charset` from a raw (still encoded) query or form body without decoding the rest. */
function rawCharset(raw: string): string | undefined {
  for (const part of raw.split('&')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq) === '_input_charset') {
      try {
        return decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '))
      } catch {
        return part.slice(eq + 1)
      }
    }
  }
  return undefined
}

type Decoded = { ok: true; params: Params } | { ok: false; refusal: Refusal }

function decode(raw: string, charset: Charset): Decoded {
  try {
    return { ok: true, params: decodeForm(raw, charset) }
  } catch (error) {
    if (error instanceof ProtocolError && error.code === 'ENCODING')
      return { ok: false, refusal: { code: 'ILLEGAL_ENCODING', field: 'request' } }
    const field =
      error instanceof ProtocolError && typeof error.details['field'] === 'string' ? error.details['field'] : 'request'
    return { ok: false, refusal: { code: 'ILLEGAL_ARGUMENT', field } }
  }
}

/**
 * Decodes a GET query or a form POST (query and body merged). Refuses an unknown charset
 * (ILLEGAL_CHARSET), undecodable bytes (ILLEGAL_ENCODING), a non-form body and a key repeated
 * with different values (ILLEGAL_ARGUMENT).
 */
export async function readGatewayRequest(c: Context, maxBytes: number): Promise<GatewayRequest | Refusal> {
  const url = new URL(c.req.url)
  const rawQuery = url.search.slice(1)
  if (rawQuery.length > maxBytes) return { code: 'ILLEGAL_ARGUMENT', field: 'request' }
  let rawBody = ''
  if (c.req.method === 'POST') {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    rawBody = await c.req.text()
    if (rawBody !== '' && type !== 'application/x-www-form-urlencoded')
      return { code: 'ILLEGAL_ARGUMENT', field: 'content-type' }
  }
  const declared = rawCharset(rawQuery)
  let charset: Charset = DEFAULT_CHARSET
  if (declared !== undefined) {
    const normalized = normalizeCharset(declared)
    if (!normalized) return { code: 'ILLEGAL_CHARSET', field: '_input_charset' }
    charset = normalized
  }
  const fromQuery = decode(rawQuery, charset)
  if (!fromQuery.ok) return fromQuery.refusal
  const fromBody = decode(rawBody, charset)
  if (!fromBody.ok) return fromBody.refusal
  const params: Params = fromQuery.params
  for (const [key, value] of Object.entries(fromBody.params)) {
    if (Object.hasOwn(params, key) && params[key] !== value) return { code: 'ILLEGAL_ARGUMENT', field: key }
    Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return { params, charset }
}

/** Narrows the result of readGatewayRequest. */
export function isGatewayRequest(value: GatewayRequest | Refusal): value is GatewayRequest {
  return 'params' in value
}
