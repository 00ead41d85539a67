/** Prefix of every diagnostic the kit prints, so logs are easy to grep. */
export const DIAGNOSTIC_PREFIX = '[alipay]'

/** Stable codes of protocol failures. Callers branch on these, never on messages. */
export type ProtocolErrorCode =
  | 'FIELD_REQUIRED'
  | 'FIELD_TYPE'
  | 'FIELD_FORMAT'
  | 'FIELD_RANGE'
  | 'FIELD_LENGTH'
  | 'KEY_FORMAT'
  | 'KEY_KIND'
  | 'UNSUPPORTED_SIGN_TYPE'
  | 'UNSUPPORTED_CHARSET'
  | 'ENCODING'
  | 'XML_MALFORMED'
  | 'AMOUNT_INVALID'
  | 'STATEMENT_MALFORMED'

/** Base of every error thrown by `protocol/`: a stable `code`, structured `details`, one prefix. */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
  readonly code: ProtocolErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ProtocolErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(`${DIAGNOSTIC_PREFIX} ${message}`)
    this.code = code
    this.details = details
  }
}

/** One failed rule of one field. */
export interface FieldIssue {
  field: string
  code: Extract<ProtocolErrorCode, `FIELD_${string}`>
  reason: string
}

/**
 * Thrown when parameters break a rule. Names the first failing field and its reason;
 * `issues` lists every failure, so a caller can show them all at once.
 */
export class ValidationError extends ProtocolError {
  override name = 'ValidationError'
  readonly field: string
  readonly reason: string
  readonly issues: readonly FieldIssue[]

  constructor(issues: readonly FieldIssue[]) {
    const first = issues[0]
    if (!first) throw new RangeError('ValidationError needs at least one issue')
    super(first.code, `"${first.field}" ${first.reason}`, { issues })
    this.field = first.field
    this.reason = first.reason
    this.issues = issues
  }
}
