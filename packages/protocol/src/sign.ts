import { md5 } from '@noble/hashes/legacy.js'
import { base64ToBytes, bytesToBase64 } from './base64.js'
import { checkEncodable, encodeText, normalizeCharset } from './charset.js'
import { ProtocolError } from './errors.js'
import type { Params } from './form.js'
import { importPrivateKey, importPublicKey, modulusBytes, nativeKey, type CryptoKey } from './keys.js'
import { nativeCrypto } from './native-crypto.js'
import { MAPI_UNSIGNED_KEYS, stringToSign } from './string-to-sign.js'

/** Signature types the kit signs and verifies. DSA is listed by Alipay but never specified (mapi-protocol §4.7). */
export const SIGN_TYPES = ['MD5', 'RSA', 'RSA2'] as const
export type SignType = (typeof SIGN_TYPES)[number]

export function isSignType(value: unknown): value is SignType {
  return typeof value === 'string' && (SIGN_TYPES as readonly string[]).includes(value)
}

/**
 * The key material of one side of a conversation: its MD5 key (shared with the peer), its own
 * RSA private key (to sign) and the peer's RSA public key (to verify).
 */
export interface KeyRing {
  md5Key?: string | undefined
  privateKey?: string | undefined
  publicKey?: string | undefined
}

/** Why a signature did not verify. Stable values; callers and tests branch on them. */
export type VerifyFailure =
  | 'missing-sign'
  | 'unsupported-sign-type'
  | 'sign-type-mismatch'
  | 'no-key'
  | 'malformed-signature'
  | 'signature-mismatch'
  | 'bad-key'
  | 'bad-charset'
  /** An openapi response's unsigned `total_fee` does not repeat its signed `total_amount`. */
  | 'mirror-mismatch'

export type VerifyResult =
  | { ok: true; signType: SignType; stringToSign: string }
  | { ok: false; reason: VerifyFailure; message: string; stringToSign?: string }

const HEX = '0123456789abcdef'

/** Lower-case hex MD5 of bytes. */
export function md5Hex(bytes: Uint8Array): string {
  const node = nativeCrypto()
  if (node) return node.hash ? node.hash('md5', bytes, 'hex') : node.createHash('md5').update(bytes).digest('hex')
  let out = ''
  for (const byte of md5(bytes)) out += HEX[byte >> 4]! + HEX[byte & 15]!
  return out
}

/**
 * MD5 signature of a string to sign: md5(bytes(string) ++ bytes(key)), lower-case hex (mapi-protocol §4.3).
 *   md5Sign('partner=123&service=test', '10000000000000000000000000000000')
 *     === 'bbd13b52823b576291595f472ebcfbc2'
 */
export function md5Sign(text: string, key: string, charset = 'utf-8'): string {
  const node = nativeCrypto()
  // Node's one-shot hash of a string digests the UTF-8 bytes encodeText gives (Node's own encoder
  // in both, lone surrogates as U+FFFD); it skips the Buffer and the Hash object: 1.9 → 1.4 µs
  // for a 20-parameter notify (median of single calls).
  if (node?.hash && normalizeCharset(charset) === 'utf-8') return node.hash('md5', text + key, 'hex')
  return md5Hex(encodeText(text + key, charset))
}

/** Compares two strings in time that depends only on their length. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1))
  return diff === 0
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/** Signs a string to sign with the given type. RSA and RSA2 use WebCrypto, in every runtime. */
export async function signString(text: string, signType: SignType, keys: KeyRing, charset = 'utf-8'): Promise<string> {
  if (signType === 'MD5') {
    if (!keys.md5Key) throw new ProtocolError('KEY_KIND', 'MD5 signing needs an MD5 key', { signType })
    return md5Sign(text, keys.md5Key, charset)
  }
  if (!isSignType(signType))
    throw new ProtocolError('UNSUPPORTED_SIGN_TYPE', `sign_type "${String(signType)}" is not MD5, RSA or RSA2`)
  if (!keys.privateKey)
    throw new ProtocolError('KEY_KIND', `${signType} signing needs an RSA private key`, { signType })
  const key = await importPrivateKey(keys.privateKey, signType)
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, toBuffer(encodeText(text, charset)))
  return bytesToBase64(new Uint8Array(signature))
}

/** A refused verification; module-level so the hot path allocates no closure per call. */
function failure(text: string, reason: VerifyFailure, message: string): VerifyResult {
  return { ok: false, reason, message, stringToSign: text }
}

/** Verifies a signature over a string to sign. Never throws for a bad signature: it says why. */
export async function verifyString(
  text: string,
  sign: string,
  signType: SignType,
  keys: KeyRing,
  charset = 'utf-8',
): Promise<VerifyResult> {
  if (typeof sign !== 'string' || sign === '') return failure(text, 'missing-sign', 'the message has no sign')
  if (!isSignType(signType))
    return failure(text, 'unsupported-sign-type', `sign_type "${String(signType)}" is not MD5, RSA or RSA2`)
  let bytesToCheck: Uint8Array | undefined
  try {
    // MD5 encodes the text together with its key (md5Sign); here it only has to be encodable.
    if (signType === 'MD5') checkEncodable(text, charset)
    else bytesToCheck = encodeText(text, charset)
  } catch (error) {
    return failure(text, 'bad-charset', error instanceof Error ? error.message : `cannot encode in ${charset}`)
  }
  if (signType === 'MD5') {
    if (!keys.md5Key) return failure(text, 'no-key', 'no MD5 key is configured for this partner')
    if (!/^[0-9a-fA-F]{32}$/.test(sign)) return failure(text, 'malformed-signature', 'an MD5 sign is 32 hex characters')
    const expected = md5Sign(text, keys.md5Key, charset)
    return constantTimeEqual(expected, sign.toLowerCase())
      ? { ok: true, signType, stringToSign: text }
      : failure(
          text,
          'signature-mismatch',
          'MD5 sign does not match. Did both sides sign the same sorted string, with the same key and charset?',
        )
  }
  if (!keys.publicKey) return failure(text, 'no-key', `no RSA public key is configured to verify ${signType}`)
  if (sign.includes(' ')) {
    return failure(
      text,
      'malformed-signature',
      'sign contains spaces: a "+" was probably decoded as a space. Send it as %2B and decode once.',
    )
  }
  const bytes = base64ToBytes(sign)
  if (!bytes) return failure(text, 'malformed-signature', 'sign is not valid base64')
  // Not MD5, so the text's bytes were built above.
  const data = bytesToCheck!
  if (nativeCrypto()) return verifyNative(text, bytes, data, signType, keys.publicKey)
  let key: CryptoKey
  try {
    key = await importPublicKey(keys.publicKey, signType)
  } catch (error) {
    return failure(text, 'bad-key', error instanceof Error ? error.message : 'the public key cannot be used')
  }
  if (bytes.length !== modulusBytes(key)) {
    return failure(
      text,
      'malformed-signature',
      `sign is ${bytes.length} bytes but this key makes ${modulusBytes(key)}-byte signatures: wrong key?`,
    )
  }
  const valid = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, toBuffer(bytes), toBuffer(data))
  return valid
    ? { ok: true, signType, stringToSign: text }
    : failure(
        text,
        'signature-mismatch',
        `${signType} signature does not match. Is it the right public key, and was "sign_type" left out of the string?`,
      )
}

/** Node's digest names for the RSA sign types. */
const NODE_HASH = { RSA: 'sha1', RSA2: 'sha256' } as const

/** The same checks as the WebCrypto path, through Node's crypto (much faster in Node). */
function verifyNative(
  text: string,
  sign: Uint8Array,
  data: Uint8Array,
  signType: 'RSA' | 'RSA2',
  publicKey: string,
): VerifyResult {
  let entry: ReturnType<typeof nativeKey>
  try {
    entry = nativeKey(publicKey, 'verify')!
  } catch (error) {
    return failure(text, 'bad-key', error instanceof Error ? error.message : 'the public key cannot be used')
  }
  const expectedLength = entry.modulusBytes
  if (sign.length !== expectedLength) {
    return failure(
      text,
      'malformed-signature',
      `sign is ${sign.length} bytes but this key makes ${expectedLength}-byte signatures: wrong key?`,
    )
  }
  return nativeCrypto()!.verify(NODE_HASH[signType], data, entry.key, sign)
    ? { ok: true, signType, stringToSign: text }
    : failure(
        text,
        'signature-mismatch',
        `${signType} signature does not match. Is it the right public key, and was "sign_type" left out of the string?`,
      )
}

export interface SignOptions {
  signType: SignType
  keys: KeyRing
  /** Charset of the signed bytes; defaults to the parameters' own `_input_charset`, then utf-8. */
  charset?: string
}

/** Returns a copy of `params` with `sign_type` and `sign` set (mapi-protocol §4). */
export async function signParams(params: Params, options: SignOptions): Promise<Params> {
  const { sign: _sign, sign_type: _signType, ...rest } = params
  const charset = options.charset ?? params['_input_charset'] ?? 'utf-8'
  const sign = await signString(stringToSign(rest), options.signType, options.keys, charset)
  return { ...rest, sign_type: options.signType, sign }
}

export interface VerifyOptions {
  keys: KeyRing
  /** Expected type; a message with another `sign_type` fails. Defaults to the message's own. */
  signType?: SignType | undefined
  charset?: string | undefined
  /** Keys outside the signature besides sign and sign_type, e.g. `success` in a PaymentResponse. */
  alsoExclude?: readonly string[]
}

/**
 * Verifies a received parameter set: return, notify, request or PaymentResponse. Not `async`: it
 * passes verifyString's promise on instead of resolving a second promise with it, which cost two
 * more microtask turns per call (measured in the protocol bench's MD5 verifyParams row).
 */
export function verifyParams(
  params: Readonly<Record<string, string | undefined>>,
  options: VerifyOptions,
): Promise<VerifyResult> {
  try {
    const declared = params['sign_type']
    const signType = options.signType ?? declared
    if (options.signType && declared !== undefined && declared !== options.signType) {
      return Promise.resolve({
        ok: false,
        reason: 'sign-type-mismatch',
        message: `expected sign_type ${options.signType}, got "${declared}"`,
      })
    }
    const charset = options.charset ?? params['_input_charset'] ?? 'utf-8'
    const exclude = options.alsoExclude?.length ? [...MAPI_UNSIGNED_KEYS, ...options.alsoExclude] : MAPI_UNSIGNED_KEYS
    const text = stringToSign(params, exclude)
    return verifyString(text, params['sign'] ?? '', signType as SignType, options.keys, charset)
  } catch (error) {
    // As from an async function: bad arguments reject the promise, they do not throw.
    return Promise.reject(error as Error)
  }
}
