import { ProtocolError } from './errors.js'
import { nativeBuffer } from './native-crypto.js'

/** Charsets the gateway accepts for `_input_charset` (mapi-protocol §3.1). */
export const GATEWAY_CHARSETS = ['utf-8', 'gbk', 'gb2312'] as const
export type Charset = (typeof GATEWAY_CHARSETS)[number]

/** Returns the canonical lower-case charset name, or undefined when the gateway refuses it. */
export function normalizeCharset(value: string | undefined): Charset | undefined {
  const lower = (value ?? '').toLowerCase()
  return (GATEWAY_CHARSETS as readonly string[]).includes(lower) ? (lower as Charset) : undefined
}

const utf8 = new TextEncoder()

// Browsers and Node can decode GBK but not encode it. The reverse table is built once, on
// first use, from the runtime's own decoder, so every runtime signs the same bytes.
let gbkTable: Map<number, number> | undefined

function buildGbkTable(): Map<number, number> {
  const decoder = new TextDecoder('gbk')
  const table = new Map<number, number>()
  const pair = new Uint8Array(2)
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue
      pair[0] = lead
      pair[1] = trail
      const text = decoder.decode(pair)
      const code = text.codePointAt(0)
      // A pair that decodes to one character (not U+FFFD) is a valid GBK code; keep the first.
      if (text.length === 1 && code !== undefined && code !== 0xfffd && !table.has(code)) {
        table.set(code, (lead << 8) | trail)
      }
    }
  }
  return table
}

function encodeGbk(text: string): Uint8Array {
  gbkTable ??= buildGbkTable()
  const out: number[] = []
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    if (code < 0x80) {
      out.push(code)
      continue
    }
    const bytes = gbkTable.get(code)
    if (bytes === undefined) {
      throw new ProtocolError('ENCODING', `character U+${code.toString(16).toUpperCase()} has no GBK encoding`, {
        charset: 'gbk',
      })
    }
    out.push(bytes >> 8, bytes & 0xff)
  }
  return Uint8Array.from(out)
}

/** `charset` as `normalizeCharset` names it; throws UNSUPPORTED_CHARSET when the gateway refuses it. */
export function gatewayCharset(charset: string): Charset {
  const cs = normalizeCharset(charset)
  if (!cs)
    throw new ProtocolError('UNSUPPORTED_CHARSET', `charset "${charset}" is not utf-8, gbk or gb2312`, { charset })
  return cs
}

/** The bytes of `text` in `charset`; gb2312 is a subset of GBK, so both use the GBK table. */
export function encodeText(text: string, charset: string): Uint8Array {
  const cs = gatewayCharset(charset)
  if (cs !== 'utf-8') return encodeGbk(text)
  // Lone surrogates: both encoders write U+FFFD's bytes, so the native one changes no signature.
  return nativeBuffer()?.from(text, 'utf8') ?? utf8.encode(text)
}

/**
 * Throws what `encodeText(text, charset)` would throw, without building the bytes where no text
 * can fail to encode: any string has UTF-8 bytes (lone surrogates become U+FFFD's), only GBK has
 * characters it cannot write.
 */
export function checkEncodable(text: string, charset: string): void {
  const cs = normalizeCharset(charset)
  if (!cs)
    throw new ProtocolError('UNSUPPORTED_CHARSET', `charset "${charset}" is not utf-8, gbk or gb2312`, { charset })
  if (cs !== 'utf-8') encodeGbk(text)
}

// One fatal decoder per charset, kept: a form decode reads each key and value separately, and
// a new decoder for each showed in a heap profile of the relay bench. A decode without `stream`
// keeps no state between calls, a failed one included.
const decoders = new Map<string, InstanceType<typeof TextDecoder>>()

/** Decodes bytes in `charset`, refusing invalid sequences instead of inventing U+FFFD. */
export function decodeText(bytes: Uint8Array, charset: string): string {
  const cs = gatewayCharset(charset)
  const label = cs === 'utf-8' ? 'utf-8' : 'gbk'
  let decoder = decoders.get(label)
  if (!decoder) decoders.set(label, (decoder = new TextDecoder(label, { fatal: true })))
  try {
    return decoder.decode(bytes)
  } catch {
    throw new ProtocolError('ENCODING', `bytes are not valid ${cs}`, { charset: cs })
  }
}
