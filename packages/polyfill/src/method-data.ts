import { checkPaymentMethodData, DIAGNOSTIC_PREFIX } from '@alipay-payment-handler/protocol'
import { identifierKey, isAlipayIdentifier, isValidPaymentMethodIdentifier } from './identifiers.js'
import { optionalObject, requiredString, serializeJson, toDictionary, toSequence, typeError } from './webidl.js'

/** A `PaymentMethodData` dictionary after WebIDL conversion. */
export interface MethodData {
  supportedMethods: string
  data?: object
}

/** `[[serializedMethodData]]`: each identifier with its data as JSON, or null when there was none. */
export type SerializedMethodData = [identifier: string, data: string | null][]

/** Converts the constructor's first argument to `sequence<PaymentMethodData>`. */
export function toMethodDataSequence(value: unknown): MethodData[] {
  return toSequence(value, 'methodData', (item, i) => {
    const dict = toDictionary(item, `methodData[${i}]`)
    // Members in lexicographic order, as WebIDL reads them.
    const data = optionalObject(dict, 'data', `methodData[${i}]`)
    const supportedMethods = requiredString(dict, 'supportedMethods', `methodData[${i}]`)
    return data === undefined ? { supportedMethods } : { supportedMethods, data }
  })
}

/**
 * The Alipay method's "steps to validate payment method data": the data must be a
 * PaymentMethodSpecificData. A rejection is a TypeError, like a failed IDL conversion.
 */
export function validateAlipayData(data: unknown): void {
  const issue = checkPaymentMethodData(data)[0]
  if (issue) throw new TypeError(`${DIAGNOSTIC_PREFIX} method-data-invalid: "${issue.field}" ${issue.reason}.`)
}

/**
 * The constructor's "process payment methods" steps
 * (https://w3c.github.io/payment-request/#constructor): at least one method (TypeError), valid
 * identifiers (RangeError), no duplicates (RangeError), data that serializes to JSON, and Alipay
 * data that the method's data type accepts (TypeError).
 */
export function processPaymentMethods(methodData: readonly MethodData[], methodUrl: string): SerializedMethodData {
  if (methodData.length === 0) typeError('At least one payment method is required.')
  const seen = new Set<string>()
  const serialized: SerializedMethodData = []
  for (const { supportedMethods, data } of methodData) {
    if (!isValidPaymentMethodIdentifier(supportedMethods)) {
      throw new RangeError(`${DIAGNOSTIC_PREFIX} Invalid payment method identifier: "${supportedMethods}".`)
    }
    const key = identifierKey(supportedMethods)
    if (seen.has(key))
      throw new RangeError(`${DIAGNOSTIC_PREFIX} Duplicate payment method identifier: "${supportedMethods}".`)
    seen.add(key)
    const json = data === undefined ? null : serializeJson(data)
    if (json !== null && isAlipayIdentifier(supportedMethods, methodUrl)) validateAlipayData(JSON.parse(json))
    serialized.push([supportedMethods, json])
  }
  return serialized
}
