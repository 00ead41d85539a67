/** The longest order subject both gateways take: String(256) (mapi-protocol §3.2, openapi-protocol §5.1). */
export const SUBJECT_MAX_LENGTH = 256

/** Characters openapi refuses in `subject` (openapi-protocol §5.1). */
const OPENAPI_SUBJECT_REFUSED = /[/=&]/
const OPENAPI_SUBJECT_REFUSED_ALL = new RegExp(OPENAPI_SUBJECT_REFUSED.source, 'g')

/**
 * The subject to send to openapi: each `/`, `=` and `&` becomes a space (openapi-protocol §5.1). The order
 * and the signed method data keep their own subject; only the request carries this one.
 */
export function cleanOpenapiSubject(subject: string): string {
  return subject.replace(OPENAPI_SUBJECT_REFUSED_ALL, ' ')
}

/**
 * Whether openapi takes `subject` as it is: at most 256 UTF-16 units and none of `/ = &`
 * (openapi-protocol §5.1). Emptiness is the caller's check (a required field).
 */
export function isOpenapiSubject(subject: string): boolean {
  return subject.length <= SUBJECT_MAX_LENGTH && !OPENAPI_SUBJECT_REFUSED.test(subject)
}

/** A subject cut to the gateways' 256 (UTF-16 units): the first 255 and `…` when longer. */
export function fitSubject(subject: string): string {
  return subject.length > SUBJECT_MAX_LENGTH ? `${subject.slice(0, SUBJECT_MAX_LENGTH - 1)}…` : subject
}
