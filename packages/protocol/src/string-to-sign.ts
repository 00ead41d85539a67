import type { Params } from './form.js'

/** Keys never signed by mapi: the signature itself and its type (mapi-protocol §4.1). */
export const MAPI_UNSIGNED_KEYS: readonly string[] = ['sign', 'sign_type']

/** Byte-order comparison of ASCII keys; never locale collation (mapi-protocol §14.17). */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The mapi string to sign: drop `sign`, `sign_type` (and any `exclude` key) and empty values,
 * sort keys by byte value, join `key=value` with `&`, no encoding (mapi-protocol §4.1).
 *   { service: 'test', partner: '123' } → 'partner=123&service=test'
 */
export function stringToSign(
  params: Readonly<Record<string, string | undefined>>,
  exclude: readonly string[] = MAPI_UNSIGNED_KEYS,
): string {
  return Object.keys(params)
    .filter((key) => !exclude.includes(key))
    .filter((key) => {
      const value = params[key]
      return typeof value === 'string' && value !== ''
    })
    .sort(byCodeUnit)
    .map((key) => `${key}=${params[key]}`)
    .join('&')
}

/** Copies the string-valued parameters, so callers can sign an object with extra members. */
export function pickStrings(input: Readonly<Record<string, unknown>>): Params {
  const out: Params = {}
  for (const [key, value] of Object.entries(input)) if (typeof value === 'string') out[key] = value
  return out
}
