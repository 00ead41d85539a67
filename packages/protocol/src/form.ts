import { decodeText, encodeText } from './charset.js'
import { ProtocolError } from './errors.js'

/** A flat parameter set as it travels: every value a string. */
export type Params = Record<string, string>

/** RFC 3986 unreserved bytes travel as they are; every other byte (`+` too) is escaped. */
const UNRESERVED: readonly boolean[] = Array.from(
  { length: 256 },
  (_, byte) =>
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e,
)
const HEX_UPPER = Array.from('0123456789ABCDEF', (digit) => digit.charCodeAt(0))
const AMPERSAND = 0x26
const EQUALS = 0x3d
const PERCENT = 0x25
const ascii = new TextDecoder()

/**
 * Encodes parameters for transport (query string or form body) in the request's charset.
 * Signing happens before this, over raw values (mapi-protocol §1.3).
 */
export function encodeForm(params: Params, charset = 'utf-8'): string {
  // Written into one byte buffer and decoded once (the output is ASCII): escaping byte by byte
  // into strings took about 15 µs for a cashier URL, the costliest step of a create-session's
  // signing; this takes half of that.
  const parts: Uint8Array[] = []
  let size = 0
  for (const [key, value] of Object.entries(params)) {
    const keyBytes = encodeText(key, charset)
    const valueBytes = encodeText(value, charset)
    parts.push(keyBytes, valueBytes)
    size += 3 * (keyBytes.length + valueBytes.length) + 2
  }
  const out = new Uint8Array(size)
  let at = 0
  const escape = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!
      if (UNRESERVED[byte]) {
        out[at++] = byte
      } else {
        out[at++] = PERCENT
        out[at++] = HEX_UPPER[byte >> 4]!
        out[at++] = HEX_UPPER[byte & 15]!
      }
    }
  }
  for (let i = 0; i < parts.length; i += 2) {
    if (i > 0) out[at++] = AMPERSAND
    escape(parts[i]!)
    out[at++] = EQUALS
    escape(parts[i + 1]!)
  }
  return ascii.decode(out.subarray(0, at))
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
