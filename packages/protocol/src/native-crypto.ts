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
  createPublicKey(key: { key: Uint8Array; format: 'der'; type: 'spki' }): NodeKeyObject
  createPrivateKey(key: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NodeKeyObject
  sign(algorithm: string, data: Uint8Array, key: NodeKeyObject): Uint8Array
  verify(algorithm: string, data: Uint8Array, key: NodeKeyObject, signature: Uint8Array): boolean
}

type GlobalWithProcess = { process?: { getBuiltinModule?: (id: string) => unknown } }

const detected = (globalThis as GlobalWithProcess).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
let enabled = detected !== undefined

/** Node's crypto when present and enabled, else undefined (windows, workers, or disabled). */
export function nativeCrypto(): NodeCrypto | undefined {
  return enabled ? detected : undefined
}

/**
 * Turns the native path on or off (on by default in Node). Tests switch it off to prove the
 * WebCrypto path gives byte-identical results.
 */
export function useNativeCrypto(on: boolean): void {
  enabled = on && detected !== undefined
}
