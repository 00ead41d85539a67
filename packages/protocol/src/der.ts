import { ProtocolError } from './errors.js'

/** One DER element: its tag, where its content starts and how long it is. */
export interface Tlv {
  tag: number
  start: number
  length: number
}

/** Reads one DER TLV header at `offset`. Throws KEY_FORMAT on truncated or oversized input. */
export function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset]
  let lengthByte = der[offset + 1]
  if (tag === undefined || lengthByte === undefined) throw new ProtocolError('KEY_FORMAT', 'DER is truncated')
  let start = offset + 2
  let length = lengthByte
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f
    if (count < 1 || count > 4) throw new ProtocolError('KEY_FORMAT', 'DER has an invalid length')
    length = 0
    for (let i = 0; i < count; i++) {
      lengthByte = der[start + i]
      if (lengthByte === undefined) throw new ProtocolError('KEY_FORMAT', 'DER is truncated')
      length = length * 256 + lengthByte
    }
    start += count
  }
  if (start + length > der.length) throw new ProtocolError('KEY_FORMAT', 'DER is truncated')
  return { tag, start, length }
}

/** The direct children of a constructed element. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let offset = parent.start; offset < parent.start + parent.length;) {
    const child = readTlv(der, offset)
    out.push(child)
    offset = child.start + child.length
  }
  return out
}

/** Dotted form of an OBJECT IDENTIFIER's content. */
export function oidToString(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.start + tlv.length)
  const parts: number[] = []
  let value = 0
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f)
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
      else parts.push(value)
      value = 0
    }
  }
  return parts.join('.')
}
