import { DIAGNOSTIC_PREFIX } from '@alipay-payment-handler/protocol'

/**
 * The few WebIDL conversions the Payment Request IDL needs
 * (https://webidl.spec.whatwg.org/#es-type-mapping). Native bindings run them before the
 * algorithm's first step, so the polyfill runs them first too: a missing required member is a
 * TypeError even when a later step would have thrown a RangeError.
 */

/** A dictionary as a plain record; members are read once, in the order the caller reads them. */
export type Dict = Record<string, unknown>

/** Throws the TypeError a binding throws, with the kit's prefix. */
export function typeError(message: string): never {
  throw new TypeError(`${DIAGNOSTIC_PREFIX} ${message}`)
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
}

/** Dictionary conversion: undefined and null give an empty dictionary, other primitives a TypeError. */
export function toDictionary(value: unknown, name: string): Dict {
  if (value === undefined || value === null) return {}
  if (!isObject(value)) typeError(`${name} is not an object.`)
  return value as Dict
}

/** DOMString conversion: ECMAScript ToString, which throws a TypeError for symbols (String() would not). */
export function toDOMString(value: unknown): string {
  return `${value as string}`
}

/** A required DOMString member. */
export function requiredString(dict: Dict, key: string, where: string): string {
  const value = dict[key]
  if (value === undefined) typeError(`${where}.${key} is required.`)
  return toDOMString(value)
}

/** An optional DOMString member: undefined when absent. */
export function optionalString(dict: Dict, key: string): string | undefined {
  const value = dict[key]
  return value === undefined ? undefined : toDOMString(value)
}

/** An optional `object` member: undefined when absent; null and primitives are TypeErrors. */
export function optionalObject(dict: Dict, key: string, where: string): object | undefined {
  const value = dict[key]
  if (value === undefined) return undefined
  if (!isObject(value)) typeError(`${where}.${key} is not an object.`)
  return value
}

/** Sequence conversion: any iterable object, converted item by item. */
export function toSequence<T>(value: unknown, name: string, convert: (item: unknown, index: number) => T): T[] {
  if (!isObject(value) || typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    typeError(`${name} is not iterable.`)
  }
  return Array.from(value as Iterable<unknown>, convert)
}

/**
 * "Serialize a JavaScript value to a JSON string" (https://infra.spec.whatwg.org/#serialize-a-javascript-value-to-a-json-string):
 * JSON.stringify's own exceptions (cycles, BigInt) pass through; an unserializable value is a TypeError.
 */
export function serializeJson(value: unknown): string {
  const json = JSON.stringify(value)
  if (json === undefined) typeError('Not serializable to JSON.')
  return json
}
