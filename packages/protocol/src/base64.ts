import { nativeBuffer } from './native-crypto.js'

/** Standard base64 (with padding) of bytes; works the same in Node, windows and workers. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** Strict base64 decode: undefined for anything that is not canonical padded base64. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  // Canonical input checked above, so Buffer's lenient decoder gives the same bytes as atob.
  const buffer = nativeBuffer()
  if (buffer) return buffer.from(text, 'base64')
  try {
    const binary = atob(text)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes
  } catch {
    return undefined
  }
}
