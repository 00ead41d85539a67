/**
 * Node's own crypto, when the code runs in Node: RSA verify through `crypto.verify` is about six
 * times faster than WebCrypto's thread-pool round trip, and MD5 through OpenSSL beats any JS
 * MD5. Reached through `process.getBuiltinModule` (Node ≥ 20.16) so that this runtime-neutral
 * module has no `node:` import: bundles for windows and workers never see it.
 */

/** The few members of `node:crypto` the protocol uses, typed structurally (no Node types here). */
interface NodeKeyObject {
  readonly type: string
}
export interface NodeCrypto {
  createHash(algorithm: string): { update(data: Uint8Array): { digest(encoding: 'hex'): string } }
  /** One-shot digest (Node ≥ 20.12); a string is hashed as its UTF-8 bytes. */
  hash?(algorithm: string, data: string | Uint8Array, outputEncoding: 'hex'): string
  createPublicKey(key: { key: Uint8Array; format: 'der'; type: 'spki' }): NodeKeyObject
  createPrivateKey(key: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NodeKeyObject
  sign(algorithm: string, data: Uint8Array, key: NodeKeyObject): Uint8Array
  verify(algorithm: string, data: Uint8Array, key: NodeKeyObject, signature: Uint8Array): boolean
}

type GlobalWithProcess = { process?: { getBuiltinModule?: (id: string) => unknown } }

/** Node's Buffer, for the byte conversions around a native verify (typed structurally too). */
export interface NodeBufferClass {
  from(text: string, encoding: 'base64' | 'utf8'): Uint8Array & { toString(encoding: 'base64'): string }
}

const builtin = (globalThis as GlobalWithProcess).process?.getBuiltinModule
const detected = builtin?.('node:crypto') as NodeCrypto | undefined
const detectedBuffer = (builtin?.('node:buffer') as { Buffer: NodeBufferClass } | undefined)?.Buffer
let enabled = detected !== undefined && detectedBuffer !== undefined

/** Node's crypto when present and enabled, else undefined (windows, workers, or disabled). */
export function nativeCrypto(): NodeCrypto | undefined {
  return enabled ? detected : undefined
}

/**
 * Node's Buffer when the native path is on. Its base64 and UTF-8 conversions run in C++: for a
 * 2048-bit signature and a 20-parameter notify they cost a fifth of `atob` + a copy loop and of
 * `TextEncoder`, which is most of what separated our verify from a bare `crypto.verify`.
 */
export function nativeBuffer(): NodeBufferClass | undefined {
  return enabled ? detectedBuffer : undefined
}

/**
 * Turns the native path on or off (on by default in Node). Tests switch it off to prove the
 * WebCrypto path gives byte-identical results.
 */
export function useNativeCrypto(on: boolean): void {
  enabled = on && detected !== undefined && detectedBuffer !== undefined
}
