import { decodeText, encodeText, gatewayCharset } from './charset.js'
import { ProtocolError } from './errors.js'

/** A flat parameter set as it travels: every value a string. */
export type Params = Record<string, string>

/** `%XX` of every byte, upper-case hex. */
const ESCAPED = Array.from({ length: 256 }, (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)

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
    out += unreserved ? String.fromCharCode(byte) : ESCAPED[byte]!
  }
  return out
}

/** Only RFC 3986 unreserved characters: the same text in every gateway charset, nothing to escape. */
const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/

function encodeComponent(text: string, charset: string): string {
  // The byte round trip only where it changes something; most keys and values are plain ASCII.
  if (UNRESERVED_ONLY.test(text)) {
    gatewayCharset(charset)
    return text
  }
  return percentEncode(encodeText(text, charset))
}

/**
 * Encodes parameters for transport (query string or form body) in the request's charset.
 * Signing happens before this, over raw values (mapi-protocol §1.3).
 */
export function encodeForm(params: Params, charset = 'utf-8'): string {
  let out = ''
  for (const [key, value] of Object.entries(params)) {
    out += `${out === '' ? '' : '&'}${encodeComponent(key, charset)}=${encodeComponent(value, charset)}`
  }
  return out
}

const utf8 = new TextEncoder()

/** The value of a hex digit's character code, or -1. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  if (code >= 0x41 && code <= 0x46) return code - 0x37
  if (code >= 0x61 && code <= 0x66) return code - 0x57
  return -1
}

// Reused by every decode (they are synchronous, and decodeText copies out of it): one key or
// value at a time, at most three bytes per UTF-16 unit.
let scratch = new Uint8Array(256)

function percentDecodeBytes(text: string): Uint8Array {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3)
  const out = scratch
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (ch === 0x25 /* % */) {
      const high = hexDigit(text.charCodeAt(i + 1))
      const low = high === -1 ? -1 : hexDigit(text.charCodeAt(i + 2))
      if (low !== -1) {
        out[n++] = (high << 4) | low
        i += 2
      } else {
        out[n++] = ch
      }
    } else if (ch === 0x2b /* + */) {
      out[n++] = 0x20
    } else if (ch < 0x80) {
      out[n++] = ch
    } else {
      // Raw non-ASCII in a query string: take it as UTF-8, as browsers send it.
      n += utf8.encodeInto(text[i] ?? '', out.subarray(n)).written
    }
  }
  return out.subarray(0, n)
}

/** `%`, `+` or non-ASCII; text without any reads as itself in every gateway charset (all are ASCII supersets). */
const NEEDS_DECODING = /[%+\u0080-\uffff]/

function decodeComponent(raw: string, charset: string): string {
  if (!NEEDS_DECODING.test(raw)) {
    gatewayCharset(charset)
    return raw
  }
  return decodeText(percentDecodeBytes(raw), charset)
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
    const key = decodeComponent(rawKey, charset)
    const value = decodeComponent(rawValue, charset)
    if (Object.hasOwn(params, key) && params[key] !== value) {
      throw new ProtocolError('FIELD_FORMAT', `parameter "${key}" is repeated with different values`, { field: key })
    }
    // A key named __proto__ is data and never a prototype; every other name is a plain own property.
    if (key === '__proto__')
      Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true })
    else params[key] = value
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
