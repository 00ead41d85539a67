import { readKey, type KeyKind } from './keys.js'
import { isSignType, verifyString, type KeyRing, type SignType, type VerifyResult } from './sign.js'
import { MAPI_UNSIGNED_KEYS, stringToSign } from './string-to-sign.js'

/** A way the message could have been broken on its way, found because that variant verifies. */
export type DiagnosisHint =
  | 'sign-plus-as-space'
  | 'value-plus-as-space'
  | 'value-decoded-twice'
  | 'sign-type-in-string'
  | 'empty-values-signed'
  | 'values-url-encoded'
  | 'other-charset'
  | 'parameter-added'
  | 'rsa-rsa2-swapped'
  | 'md5-key-is-public-key'
  | 'success-signed'

export interface DiagnosisFinding {
  hint: DiagnosisHint
  /** What happened and what to do, in one sentence. */
  message: string
  /** The parameter involved, where there is one. */
  field?: string
}

/** What can be said about a signature without revealing any secret. */
export interface Diagnosis {
  verified: boolean
  signType: string
  stringToSign: string
  charset: string
  /** Which key slot verification used, and what the key text holds (never the key itself). */
  keySlot: { slot: 'md5-key' | 'public-key' | 'none'; kind?: KeyKind | 'unreadable'; md5KeyLength?: number }
  failure?: Extract<VerifyResult, { ok: false }>
  findings: DiagnosisFinding[]
}

export interface DiagnoseOptions {
  keys: KeyRing
  charset?: string
  /** Keys outside the signature besides sign and sign_type (e.g. `success`). */
  alsoExclude?: readonly string[]
}

const MESSAGES: Record<DiagnosisHint, string> = {
  'sign-plus-as-space':
    'sign contains spaces where "+" was: the body was form-decoded twice or "+" was not sent as %2B. Decode once.',
  'value-plus-as-space': 'a "+" in this value became a space: send it as %2B and decode the body exactly once.',
  'value-decoded-twice':
    'this value was percent-decoded twice (e.g. a return notify_id). Decode the query exactly once and sign the value as it is.',
  'sign-type-in-string': 'the signer kept sign_type in the string: that is the openapi rule, mapi leaves it out.',
  'empty-values-signed': 'the signer kept empty values in the string: mapi drops parameters whose value is empty.',
  'values-url-encoded':
    'the signer URL-encoded values before joining them: mapi signs raw values, encoding comes after.',
  'other-charset': 'the signature is over the bytes of another charset: sign and verify in the _input_charset.',
  'parameter-added': 'this parameter was added after signing: remove it, or sign after adding it.',
  'rsa-rsa2-swapped':
    'the signature uses the other RSA digest: sign_type says one of RSA/RSA2, the signer used the other.',
  'md5-key-is-public-key':
    'the MD5 sign was made with the RSA public key as the MD5 key: a sign_type downgrade. Refuse sign types the partner is not configured for.',
  'success-signed': 'the success member was left in the string: it lies outside the gateway signature, like sign_type.',
}

function describeKeys(keys: KeyRing, signType: string): Diagnosis['keySlot'] {
  if (signType === 'MD5') return keys.md5Key ? { slot: 'md5-key', md5KeyLength: keys.md5Key.length } : { slot: 'none' }
  if (!keys.publicKey) return { slot: 'none' }
  try {
    return { slot: 'public-key', kind: readKey(keys.publicKey).kind }
  } catch {
    return { slot: 'public-key', kind: 'unreadable' }
  }
}

/** Re-escapes the characters a second decode would have turned back from %XX. */
const reEscape = (value: string) => value.replace(/[/+=]/g, (c) => encodeURIComponent(c))

/**
 * Verifies a received parameter set and, when it fails, tries the usual ways messages get
 * broken (mapi-protocol §4.9, mapi-protocol §14) and reports each variant that would have verified. The output holds
 * the string to sign and key *kinds*, never key material.
 */
export async function diagnoseSignature(
  params: Readonly<Record<string, string | undefined>>,
  options: DiagnoseOptions,
): Promise<Diagnosis> {
  const declared = params['sign_type'] ?? ''
  const signType = (isSignType(declared) ? declared : 'MD5') as SignType
  const charset = options.charset ?? params['_input_charset'] ?? 'utf-8'
  const exclude = [...MAPI_UNSIGNED_KEYS, ...(options.alsoExclude ?? [])]
  const sign = params['sign'] ?? ''
  const text = stringToSign(params, exclude)
  const result = await verifyString(text, sign, declared as SignType, options.keys, charset)
  const diagnosis: Diagnosis = {
    verified: result.ok,
    signType: declared,
    stringToSign: text,
    charset,
    keySlot: describeKeys(options.keys, declared),
    findings: [],
  }
  if (result.ok) return diagnosis
  diagnosis.failure = result

  const findings = diagnosis.findings
  const tryText = async (
    candidate: string,
    candidateSign = sign,
    type: SignType = signType,
    keys = options.keys,
    cs = charset,
  ) => (await verifyString(candidate, candidateSign, type, keys, cs)).ok
  const add = (hint: DiagnosisHint, field?: string) =>
    findings.push({ hint, message: MESSAGES[hint], ...(field ? { field } : {}) })

  if (sign.includes(' ') && (await tryText(text, sign.replace(/ /g, '+')))) add('sign-plus-as-space', 'sign')

  for (const [field, value] of Object.entries(params)) {
    if (value === undefined || exclude.includes(field)) continue
    if (
      value.includes(' ') &&
      (await tryText(stringToSign({ ...params, [field]: value.replace(/ /g, '+') }, exclude)))
    ) {
      add('value-plus-as-space', field)
    }
    if (/[/+=]/.test(value) && (await tryText(stringToSign({ ...params, [field]: reEscape(value) }, exclude)))) {
      add('value-decoded-twice', field)
    }
  }

  if (
    declared &&
    (await tryText(
      stringToSign(
        params,
        exclude.filter((k) => k !== 'sign_type'),
      ),
    ))
  )
    add('sign-type-in-string')

  const withEmpty = Object.keys(params)
    .filter((k) => !exclude.includes(k) && params[k] !== undefined)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&')
  if (withEmpty !== text && (await tryText(withEmpty))) add('empty-values-signed')

  const encoded = Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, v === undefined ? v : encodeURIComponent(v)]),
  )
  const encodedText = stringToSign(encoded, exclude)
  if (encodedText !== text && (await tryText(encodedText))) add('values-url-encoded')

  const otherCharset = charset.toLowerCase() === 'utf-8' ? 'gbk' : 'utf-8'
  if (
    /[^\t\n\r -~]/.test(text) &&
    (await tryText(text, sign, signType, options.keys, otherCharset).catch(() => false))
  ) {
    add('other-charset', '_input_charset')
  }

  for (const field of Object.keys(params)) {
    if (exclude.includes(field) || !params[field]) continue
    const { [field]: _dropped, ...rest } = params
    // `success` is the one member a PaymentResponse adds on purpose: name that case precisely.
    if (await tryText(stringToSign(rest, exclude)))
      add(field === 'success' ? 'success-signed' : 'parameter-added', field)
  }

  if (signType === 'RSA' || signType === 'RSA2') {
    if (await tryText(text, sign, signType === 'RSA' ? 'RSA2' : 'RSA')) add('rsa-rsa2-swapped', 'sign_type')
  }
  if (
    signType === 'MD5' &&
    options.keys.publicKey &&
    (await tryText(text, sign, 'MD5', { md5Key: options.keys.publicKey }))
  ) {
    add('md5-key-is-public-key', 'sign_type')
  }
  return diagnosis
}

/** Renders a diagnosis for people: the verdict, the string, the key slot and every hint. */
export function formatDiagnosis(d: Diagnosis): string {
  const lines = [
    d.verified ? `OK: ${d.signType} signature verifies.` : `FAILED: ${d.failure?.message ?? 'not verified'}`,
  ]
  lines.push(`string to sign (${d.charset}): ${d.stringToSign}`)
  const slot = d.keySlot
  lines.push(
    `key slot: ${slot.slot}${slot.kind ? ` (${slot.kind})` : ''}${slot.md5KeyLength !== undefined ? ` (${slot.md5KeyLength} characters)` : ''}`,
  )
  for (const f of d.findings) lines.push(`hint [${f.hint}]${f.field ? ` ${f.field}:` : ''} ${f.message}`)
  if (!d.verified && d.findings.length === 0) {
    lines.push('no known variant verifies: check that this is the right key for this partner and message direction.')
  }
  return lines.join('\n')
}
