import { normalizeCharset } from './charset.js'
import { ValidationError, type FieldIssue } from './errors.js'
import type { GatewayErrorCode } from './mapi.js'
import { PC_PAY_SERVICE, WAP_PAY_SERVICE } from './mapi.js'
import { isAmountString, toFen, MAX_AMOUNT_FEN, MIN_AMOUNT_FEN } from './money.js'
import { ALIPAY_USER_ID, OUT_TRADE_NO, charLength, isNotifyUrl, isSellerAccount, parseItBPay } from './rules.js'
import { isSignType } from './sign.js'
import { REQUIRED_METHOD_DATA_FIELDS, type PaymentMethodSpecificData } from './types.js'

/** Limits of the APP-pay table, the origin of the spec's dictionary (mapi-protocol §2.2). */
const MAX_LENGTH: Record<string, number> = { notify_url: 200, subject: 128, body: 512, seller_id: 100 }

type Issue = Omit<FieldIssue, 'field'>
type FieldRule = (value: string) => Issue | undefined

const format = (reason: string): Issue => ({ code: 'FIELD_FORMAT', reason })
const range = (reason: string): Issue => ({ code: 'FIELD_RANGE', reason })

function amountRule(value: string): Issue | undefined {
  if (!isAmountString(value)) return format('must be a decimal string with at most 2 decimals, e.g. "99.90"')
  const fen = toFen(value)
  if (fen < MIN_AMOUNT_FEN || fen > MAX_AMOUNT_FEN) return range('must be between 0.01 and 100000000.00')
  return undefined
}

/** One rule per field of the dictionary; fields without a rule only need to be strings. */
const METHOD_DATA_RULES: Record<string, FieldRule> = {
  partner: (v) => (ALIPAY_USER_ID.test(v) ? undefined : format('must be 2088 followed by 12 digits')),
  _input_charset: (v) =>
    v.toLowerCase() === 'utf-8' || v.toLowerCase() === 'gbk' ? undefined : format('must be "utf-8" or "gbk"'),
  sign_type: (v) => (isSignType(v) ? undefined : format('must be "MD5", "RSA" or "RSA2"')),
  notify_url: (v) => (isNotifyUrl(v) ? undefined : format('must be an absolute http(s) URL without a query string')),
  out_trade_no: (v) => (OUT_TRADE_NO.test(v) ? undefined : format('must be 1 to 64 letters, digits, "-" or "_"')),
  payment_type: (v) => (v === '1' ? undefined : format('must be "1" (goods purchase)')),
  seller_id: (v) =>
    isSellerAccount(v) ? undefined : format('must be an Alipay user id (2088…), an e-mail or a mobile number'),
  total_fee: amountRule,
  goods_type: (v) => (v === '0' || v === '1' ? undefined : format('must be "0" (virtual) or "1" (physical)')),
  it_b_pay: (v) =>
    parseItBPay(v, { allowAbsolute: true })
      ? undefined
      : format(
          'must be whole minutes, hours or days from 1m to 15d (e.g. "30m", "2h", "1d"), "1c", or "yyyy-MM-dd HH:mm:ss"',
        ),
}

/**
 * Lists every rule `data` breaks as PaymentMethodSpecificData. Empty when valid.
 * Unknown members are allowed (they are signed like the rest) but must be strings.
 */
export function checkPaymentMethodData(data: unknown): FieldIssue[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return [{ field: 'data', code: 'FIELD_TYPE', reason: 'must be an object of string members' }]
  }
  const record = data as Record<string, unknown>
  const issues: FieldIssue[] = []
  for (const field of REQUIRED_METHOD_DATA_FIELDS) {
    const value = record[field]
    if (value === undefined || value === null || value === '') {
      issues.push({ field, code: 'FIELD_REQUIRED', reason: 'is required and must not be empty' })
    }
  }
  for (const [field, value] of Object.entries(record)) {
    if (value === undefined) continue
    if (typeof value !== 'string') {
      if (value !== null || !(REQUIRED_METHOD_DATA_FIELDS as readonly string[]).includes(field)) {
        issues.push({
          field,
          code: 'FIELD_TYPE',
          reason: `must be a string, got ${value === null ? 'null' : typeof value}`,
        })
      }
      continue
    }
    if (value === '') continue
    const limit = MAX_LENGTH[field]
    if (limit !== undefined && charLength(value) > limit) {
      issues.push({ field, code: 'FIELD_LENGTH', reason: `must be at most ${limit} characters` })
      continue
    }
    const issue = METHOD_DATA_RULES[field]?.(value)
    if (issue) issues.push({ field, ...issue })
  }
  return issues
}

/** Returns `data` as PaymentMethodSpecificData, or throws a ValidationError naming the field. */
export function validatePaymentMethodData(data: unknown): PaymentMethodSpecificData {
  const issues = checkPaymentMethodData(data)
  if (issues.length > 0) throw new ValidationError(issues)
  return data as PaymentMethodSpecificData
}

/** A gateway refusal: the code the real gateway would give, and the field that caused it. */
export interface GatewayRefusal {
  code: GatewayErrorCode
  field: string
}

const refuse = (code: GatewayErrorCode, field: string): GatewayRefusal => ({ code, field })

/**
 * The business-parameter rules of the two web pay services, as the gateway applies them
 * after the signature check (mapi-protocol §3.2–3.4, mapi-protocol §13). Undefined when the request is acceptable.
 */
export function checkPayRequest(params: Readonly<Record<string, string | undefined>>): GatewayRefusal | undefined {
  const service = params['service']
  const present = (key: string) => params[key] !== undefined && params[key] !== ''
  if (service === WAP_PAY_SERVICE && normalizeCharset(params['_input_charset']) !== 'utf-8') {
    return refuse('ILLEGAL_CHARSET', '_input_charset')
  }
  for (const field of ['out_trade_no', 'subject', 'payment_type'])
    if (!present(field)) return refuse('PARAMTER_IS_NULL', field)
  if (!present('total_fee') && !(present('price') && present('quantity')))
    return refuse('PARAMTER_IS_NULL', 'total_fee')
  if (!present('seller_id') && !present('seller_email') && !present('seller_account_name')) {
    return refuse('PARAMTER_IS_NULL', 'seller_id')
  }
  if (params['payment_type'] !== '1') return refuse('ILLEGAL_PAYMENT_TYPE', 'payment_type')
  if (present('total_fee') && (present('price') || present('quantity'))) return refuse('ILLEGAL_FEE_PARAM', 'total_fee')
  const amountField = present('total_fee') ? 'total_fee' : 'price'
  const amount = params[amountField] ?? ''
  if (!/^\d+(\.\d+)?$/.test(amount)) return refuse('ILLEGAL_FEE_PARAM', amountField)
  if (!isAmountString(amount)) {
    // Well-formed number with more than two decimals, or leading zeros.
    return /^0+(\.0*)?$/.test(amount)
      ? refuse('TOTAL_FEE_LESSEQUAL_ZERO', amountField)
      : refuse('ILLEGAL_FEE_PARAM', amountField)
  }
  const fen = toFen(amount)
  if (fen < MIN_AMOUNT_FEN) return refuse('TOTAL_FEE_LESSEQUAL_ZERO', amountField)
  if (fen > MAX_AMOUNT_FEN) return refuse('TOTAL_FEE_OUT_OF_RANGE', amountField)
  if (present('quantity') && !/^[1-9]\d{0,5}$/.test(params['quantity'] ?? ''))
    return refuse('ILLEGAL_ARGUMENT', 'quantity')
  const outTradeNo = params['out_trade_no'] ?? ''
  if (charLength(outTradeNo) > 64) return refuse('ILLEGAL_ARGUMENT', 'out_trade_no')
  if (charLength(params['subject'] ?? '') > 256) return refuse('ILLEGAL_ARGUMENT', 'subject')
  if (charLength(params['body'] ?? '') > 1000) return refuse('ILLEGAL_ARGUMENT', 'body')
  if (present('seller_id') && !ALIPAY_USER_ID.test(params['seller_id'] ?? ''))
    return refuse('ILLEGAL_ARGUMENT', 'seller_id')
  for (const field of ['notify_url', 'return_url']) {
    if (present(field) && !isNotifyUrl(params[field] ?? '')) return refuse('ILLEGAL_ARGUMENT', field)
  }
  // show_url is a product link: it may carry a query string, but must be absolute http(s).
  if (present('show_url') && !/^https?:\/\/[^\s]+$/i.test(params['show_url'] ?? ''))
    return refuse('ILLEGAL_ARGUMENT', 'show_url')
  if (present('it_b_pay') && !parseItBPay(params['it_b_pay'] ?? '')) return refuse('ILLEGAL_ARGUMENT', 'it_b_pay')
  if (present('extra_common_param') && /[=&]/.test(params['extra_common_param'] ?? '')) {
    return refuse('ILLEGAL_ARGUMENT', 'extra_common_param')
  }
  if (service !== PC_PAY_SERVICE && service !== WAP_PAY_SERVICE) return refuse('ILLEGAL_SERVICE', 'service')
  return undefined
}
