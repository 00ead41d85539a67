import { base64ToBytes } from './base64.js'
import { children, readTlv } from './der.js'
import { ProtocolError } from './errors.js'
import { nativeCrypto, type NodeCrypto } from './native-crypto.js'

/** WebCrypto's key type, named without relying on DOM or Node global type names. */
export type CryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

/** The RSA sign types and the digest each one uses. */
export type RsaSignType = 'RSA' | 'RSA2'
const HASH: Record<RsaSignType, 'SHA-1' | 'SHA-256'> = { RSA: 'SHA-1', RSA2: 'SHA-256' }

/** What a key text turned out to hold, so a key in the wrong slot gets a precise error. */
export type KeyKind = 'pkcs8-private' | 'pkcs1-private' | 'spki-public' | 'pkcs1-public' | 'x509-certificate'

/** OID 1.2.840.113549.1.1.1 (rsaEncryption) with its NULL parameters, DER-encoded. */
const RSA_ALGORITHM_ID = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
])

function derFromBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '')
  const der = clean === '' ? undefined : base64ToBytes(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='))
  if (!der) throw new ProtocolError('KEY_FORMAT', 'key is neither PEM nor base64 DER')
  return der
}

/** Tells PKCS#8, PKCS#1 and SPKI apart from the shape of the outer SEQUENCE. */
export function sniffKeyKind(der: Uint8Array): KeyKind {
  const outer = readTlv(der, 0)
  if (outer.tag !== 0x30) throw new ProtocolError('KEY_FORMAT', 'key DER does not start with a SEQUENCE')
  const first = readTlv(der, outer.start)
  const second = readTlv(der, first.start + first.length)
  if (first.tag === 0x30 && second.tag === 0x03) return 'spki-public'
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE, BIT STRING }.
  if (first.tag === 0x30 && second.tag === 0x30) return 'x509-certificate'
  if (first.tag === 0x02 && second.tag === 0x30) return 'pkcs8-private'
  if (first.tag === 0x02 && second.tag === 0x02) {
    // RSAPrivateKey starts with version 0 and has 9 integers; RSAPublicKey has just n and e.
    const isVersionZero = first.length === 1 && der[first.start] === 0
    return isVersionZero ? 'pkcs1-private' : 'pkcs1-public'
  }
  throw new ProtocolError('KEY_FORMAT', 'key DER is not an RSA key structure')
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length]
  const bytes: number[] = []
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256)
  return [0x80 | bytes.length, ...bytes]
}

function derWrap(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts)
  return concat(Uint8Array.from([tag, ...derLength(body.length)]), body)
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Decodes PEM armour or bare base64 (as Alipay's tools hand keys out) to DER and its kind. */
export function readKey(text: string): { der: Uint8Array; kind: KeyKind } {
  if (typeof text !== 'string') throw new ProtocolError('KEY_FORMAT', 'key must be a string')
  const pem = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text)
  const der = derFromBase64(pem ? (pem[2] ?? '') : text)
  return { der, kind: sniffKeyKind(der) }
}

function toPkcs8(der: Uint8Array, kind: KeyKind): Uint8Array {
  if (kind === 'pkcs8-private') return der
  if (kind === 'x509-certificate') {
    throw new ProtocolError('KEY_KIND', 'a certificate was given where a private key belongs', { kind })
  }
  if (kind === 'pkcs1-private') {
    return derWrap(0x30, Uint8Array.from([0x02, 0x01, 0x00]), RSA_ALGORITHM_ID, derWrap(0x04, der))
  }
  throw new ProtocolError('KEY_KIND', 'a public key was given where a private key belongs', { kind })
}

/**
 * The subjectPublicKeyInfo of an X.509 certificate, as DER. Alipay's certificate mode hands out
 * the gateway key inside a certificate; where a public key is expected, its key is taken (the
 * certificate's chain and SN are checked by the certificate-mode settings, openapi-protocol §3.6).
 */
export function certificatePublicKeyDer(der: Uint8Array): Uint8Array {
  const [tbs] = children(der, readTlv(der, 0))
  if (!tbs || tbs.tag !== 0x30) throw new ProtocolError('KEY_FORMAT', 'not an X.509 certificate')
  const fields = children(der, tbs)
  // [0] version (optional), serial, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const at = fields[0]?.tag === 0xa0 ? 6 : 5
  const subject = fields[at - 1]
  const spki = fields[at]
  if (!subject || !spki || spki.tag !== 0x30) throw new ProtocolError('KEY_FORMAT', 'not an X.509 certificate')
  return der.subarray(subject.start + subject.length, spki.start + spki.length)
}

function toSpki(der: Uint8Array, kind: KeyKind): Uint8Array {
  if (kind === 'spki-public') return der
  if (kind === 'x509-certificate') return certificatePublicKeyDer(der)
  if (kind === 'pkcs1-public') return derWrap(0x30, RSA_ALGORITHM_ID, derWrap(0x03, Uint8Array.from([0]), der))
  throw new ProtocolError('KEY_KIND', 'a private key was given where a public key belongs', { kind })
}

// Importing a key costs far more than using it; cache by text, usage and digest.
const cache = new Map<string, Promise<CryptoKey>>()
const CACHE_LIMIT = 256

function cached(id: string, make: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = cache.get(id)
  if (!key) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
    key = make()
    cache.set(id, key)
    key.catch(() => cache.delete(id))
  }
  return key
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

async function subtleImport(
  format: 'pkcs8' | 'spki',
  der: Uint8Array,
  signType: RsaSignType,
  usage: 'sign' | 'verify',
) {
  try {
    return await crypto.subtle.importKey(
      format,
      toBuffer(der),
      { name: 'RSASSA-PKCS1-v1_5', hash: HASH[signType] },
      false,
      [usage],
    )
  } catch (cause) {
    throw new ProtocolError('KEY_FORMAT', `the runtime refused the ${format} key`, { cause: String(cause) })
  }
}

// Node KeyObjects for the native path, cached like CryptoKeys, with their signature length.
// One map per use, keyed by the key text itself: V8 caches a string's hash, so lookups stay cheap.
type NativeEntry = { key: ReturnType<NodeCrypto['createPublicKey']>; modulusBytes: number }
const nativeKeys = { sign: new Map<string, NativeEntry>(), verify: new Map<string, NativeEntry>() }

/**
 * A Node KeyObject for this key text and the length of its signatures, or undefined when not
 * running in Node. Throws KEY_FORMAT / KEY_KIND like the WebCrypto import.
 */
export function nativeKey(
  text: string,
  use: 'sign' | 'verify',
): { key: ReturnType<NodeCrypto['createPublicKey']>; modulusBytes: number } | undefined {
  const node = nativeCrypto()
  if (!node) return undefined
  const cache = nativeKeys[use]
  let entry = cache.get(text)
  if (!entry) {
    const { der, kind } = readKey(text)
    const converted = use === 'sign' ? toPkcs8(der, kind) : toSpki(der, kind)
    try {
      const key =
        use === 'sign'
          ? node.createPrivateKey({ key: converted, format: 'der', type: 'pkcs8' })
          : node.createPublicKey({ key: converted, format: 'der', type: 'spki' })
      entry = { key, modulusBytes: use === 'verify' ? modulusBytesOf(converted) : 0 }
    } catch (cause) {
      throw new ProtocolError('KEY_FORMAT', 'the runtime refused the key', { cause: String(cause) })
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
    cache.set(text, entry)
  }
  return entry
}

/** Length in bytes of the modulus of an SPKI key (the length of its signatures). */
function modulusBytesOf(spki: Uint8Array): number {
  // SPKI → BIT STRING → RSAPublicKey SEQUENCE → first INTEGER is the modulus.
  const outer = readTlv(spki, 0)
  const algorithm = readTlv(spki, outer.start)
  const bits = readTlv(spki, algorithm.start + algorithm.length)
  const rsa = readTlv(spki, bits.start + 1)
  const modulus = readTlv(spki, rsa.start)
  const leadingZero = spki[modulus.start] === 0 ? 1 : 0
  return modulus.length - leadingZero
}

/** Imports an RSA private key (PKCS#8, PKCS#1 or bare base64) for signing. */
export function importPrivateKey(text: string, signType: RsaSignType): Promise<CryptoKey> {
  return cached(`private:${signType}:${text}`, async () => {
    const { der, kind } = readKey(text)
    return subtleImport('pkcs8', toPkcs8(der, kind), signType, 'sign')
  })
}

/** Imports an RSA public key (SPKI, PKCS#1 or bare base64) for verifying. */
export function importPublicKey(text: string, signType: RsaSignType): Promise<CryptoKey> {
  return cached(`public:${signType}:${text}`, async () => {
    const { der, kind } = readKey(text)
    return subtleImport('spki', toSpki(der, kind), signType, 'verify')
  })
}

/** Checks a key text at start-up, so a bad PEM fails loudly before the first payment. */
export async function assertKeyUsable(text: string, use: 'sign' | 'verify'): Promise<void> {
  await (use === 'sign' ? importPrivateKey(text, 'RSA2') : importPublicKey(text, 'RSA2'))
}

/** Length in bytes of an RSA signature made with this key (the modulus length). */
export function modulusBytes(key: CryptoKey): number {
  const algorithm = key.algorithm as unknown as { modulusLength: number }
  return Math.ceil(algorithm.modulusLength / 8)
}
