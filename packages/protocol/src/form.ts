import { decodeText, encodeText } from './charset.js'
import { ProtocolError } from './errors.js'

/** A flat parameter set as it travels: every value a string. */
export type Params = Record<string, string>

function percentEncode(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) {
    // RFC 3986 unreserved characters stay as they are; everything else, `+` included, is escaped.
    const unreserved =
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f ||
      byte === 0x7e
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * Encodes parameters for transport (query string or form body) in the request's charset.
 * Signing happens before this, over raw values (mapi-protocol §1.3).
 */
export function encodeForm(params: Params, charset = 'utf-8'): string {
  return Object.entries(params)
    .map(([key, value]) => `${percentEncode(encodeText(key, charset))}=${percentEncode(encodeText(value, charset))}`)
    .join('&')
}

function percentDecodeBytes(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x25 /* % */ && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else if (ch === 0x2b /* + */) {
      out.push(0x20)
    } else if (ch < 0x80) {
      out.push(ch)
    } else {
      // Raw non-ASCII in a query string: take it as UTF-8, as browsers send it.
      out.push(...new TextEncoder().encode(text[i] ?? ''))
    }
  }
  return Uint8Array.from(out)
}

/**
 * Decodes a query string or form body exactly once, in `charset` (`+` is a space, as in every
 * form decoder). Throws on a repeated key with different values, which the gateway refuses.
 */
export function decodeForm(body: string, charset = 'utf-8'): Params {
  const params: Params = {}
  const text = body.startsWith('?') ? body.slice(1) : body
  if (text === '') return params
  for (const part of text.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawKey = eq === -1 ? part : part.slice(0, eq)
    const rawValue = eq === -1 ? '' : part.slice(eq + 1)
    const key = decodeText(percentDecodeBytes(rawKey), charset)
    const value = decodeText(percentDecodeBytes(rawValue), charset)
    if (Object.hasOwn(params, key) && params[key] !== value) {
      throw new ProtocolError('FIELD_FORMAT', `parameter "${key}" is repeated with different values`, { field: key })
    }
    // defineProperty, so a key named __proto__ is data and never a prototype.
    Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return params
}

/** A received notify: its parameters and the charset its bytes were decoded (and signed) in. */
export interface DecodedNotify {
  params: Params
  charset: string
}

/**
 * The one decoder of a notify body, for every receiver (the relay, the merchant's routes, the demo
 * shop): the charset is the one the sender declared in `Content-Type` (UTF-8 when none), and the
 * same charset is what its signature is checked in. Receivers that decoded one body two ways would
 * acknowledge a GBK notify in one place and refuse it forever in another (mapi-protocol §6.1).
 */
export function decodeNotify(body: string, contentType: string | undefined): DecodedNotify {
  const declared = /charset\s*=\s*"?([\w-]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase()
  const charset = declared ?? 'utf-8'
  return { params: decodeForm(body, charset), charset }
}
