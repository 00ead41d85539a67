import { isValidPaymentMethodIdentifier } from '../identifiers.js'
import type { SerializedMethodData } from '../method-data.js'
import {
  optionalObject,
  optionalString,
  requiredString,
  serializeJson,
  toDictionary,
  toSequence,
  typeError,
  type Dict,
} from '../webidl.js'
import { DIAGNOSTIC_PREFIX } from '@alipay-payment-handler/protocol'

/** PaymentCurrencyAmount after conversion. */
export interface CurrencyAmount {
  currency: string
  value: string
}

/** PaymentItem after conversion. */
export interface Item {
  amount: CurrencyAmount
  label: string
  pending: boolean
}

/** PaymentDetailsModifier after conversion; `data` is removed once serialized. */
export interface Modifier {
  additionalDisplayItems?: Item[]
  data?: object
  supportedMethods: string
  total?: Item
}

/** PaymentDetailsBase after conversion. */
export interface DetailsBase {
  displayItems?: Item[]
  modifiers?: Modifier[]
}

/** PaymentDetailsInit after conversion; `id` is filled in by the constructor. */
export interface DetailsInit extends DetailsBase {
  id?: string
  total: Item
}

/** PaymentDetailsUpdate after conversion. */
export interface DetailsUpdate extends DetailsBase {
  paymentMethodErrors?: object
  total?: Item
}

function toAmount(value: unknown, where: string): CurrencyAmount {
  const dict = toDictionary(value, where)
  return { currency: requiredString(dict, 'currency', where), value: requiredString(dict, 'value', where) }
}

function toItem(value: unknown, where: string): Item {
  const dict = toDictionary(value, where)
  const amountValue = dict['amount']
  if (amountValue === undefined) typeError(`${where}.amount is required.`)
  const amount = toAmount(amountValue, `${where}.amount`)
  const label = requiredString(dict, 'label', where)
  return { amount, label, pending: Boolean(dict['pending']) }
}

function optionalItems(dict: Dict, key: string, where: string): Item[] | undefined {
  const value = dict[key]
  return value === undefined
    ? undefined
    : toSequence(value, `${where}.${key}`, (v, i) => toItem(v, `${where}.${key}[${i}]`))
}

function optionalItem(dict: Dict, key: string, where: string): Item | undefined {
  const value = dict[key]
  return value === undefined ? undefined : toItem(value, `${where}.${key}`)
}

function toModifier(value: unknown, where: string): Modifier {
  const dict = toDictionary(value, where)
  const modifier: Modifier = { supportedMethods: '' }
  const additionalDisplayItems = optionalItems(dict, 'additionalDisplayItems', where)
  if (additionalDisplayItems) modifier.additionalDisplayItems = additionalDisplayItems
  const data = optionalObject(dict, 'data', where)
  if (data) modifier.data = data
  modifier.supportedMethods = requiredString(dict, 'supportedMethods', where)
  const total = optionalItem(dict, 'total', where)
  if (total) modifier.total = total
  return modifier
}

/** PaymentDetailsBase members, inherited members first, each in lexicographic order (WebIDL). */
function toBase(dict: Dict, where: string): DetailsBase {
  const base: DetailsBase = {}
  const displayItems = optionalItems(dict, 'displayItems', where)
  if (displayItems) base.displayItems = displayItems
  const modifiers = dict['modifiers']
  if (modifiers !== undefined) {
    base.modifiers = toSequence(modifiers, `${where}.modifiers`, (m, i) => toModifier(m, `${where}.modifiers[${i}]`))
  }
  return base
}

/** Converts the constructor's second argument to PaymentDetailsInit. */
export function toDetailsInit(value: unknown): DetailsInit {
  const dict = toDictionary(value, 'details')
  const base = toBase(dict, 'details')
  const id = optionalString(dict, 'id')
  const totalValue = dict['total']
  if (totalValue === undefined) typeError('details.total is required.')
  const total = toItem(totalValue, 'details.total')
  return id === undefined ? { ...base, total } : { ...base, id, total }
}

/** Converts what a details promise fulfilled with to PaymentDetailsUpdate. */
export function toDetailsUpdate(value: unknown): DetailsUpdate {
  const dict = toDictionary(value, 'details')
  const update: DetailsUpdate = toBase(dict, 'details')
  const errors = optionalObject(dict, 'paymentMethodErrors', 'details')
  if (errors) update.paymentMethodErrors = errors
  const total = optionalItem(dict, 'total', 'details')
  if (total) update.total = total
  return update
}

/** "Valid decimal monetary value": the spec's own regular expression. */
const DECIMAL_MONETARY_VALUE = /^-?[0-9]+(\.[0-9]+)?$/

/** "Check and canonicalize amount": currency first (RangeError), then value (TypeError), then upper-case the currency. */
export function checkAndCanonicalizeAmount(amount: CurrencyAmount): void {
  // ECMA-402 IsWellFormedCurrencyCode: exactly three ASCII letters.
  if (!/^[A-Za-z]{3}$/.test(amount.currency)) {
    throw new RangeError(`${DIAGNOSTIC_PREFIX} "${amount.currency}" is not a well-formed 3-letter currency code.`)
  }
  if (!DECIMAL_MONETARY_VALUE.test(amount.value)) typeError(`"${amount.value}" is not a valid decimal monetary value.`)
  amount.currency = amount.currency.toUpperCase()
}

/** "Check and canonicalize total amount": an amount that is not negative. */
export function checkAndCanonicalizeTotal(amount: CurrencyAmount): void {
  checkAndCanonicalizeAmount(amount)
  if (amount.value.startsWith('-')) typeError(`Total amount "${amount.value}" cannot be negative.`)
}

/**
 * The checks shared by the constructor and the update algorithm: total, display items, then each
 * modifier (its identifier only on update, as the spec says), serializing and removing its data.
 * Returns `[[serializedModifierData]]`.
 */
export function processDetails(details: DetailsBase & { total?: Item }, isUpdate: boolean): SerializedMethodData {
  if (details.total) checkAndCanonicalizeTotal(details.total.amount)
  for (const item of details.displayItems ?? []) checkAndCanonicalizeAmount(item.amount)
  const serialized: SerializedMethodData = []
  for (const modifier of details.modifiers ?? []) {
    if (isUpdate && !isValidPaymentMethodIdentifier(modifier.supportedMethods)) {
      throw new RangeError(`${DIAGNOSTIC_PREFIX} Invalid payment method identifier: "${modifier.supportedMethods}".`)
    }
    if (modifier.total) checkAndCanonicalizeTotal(modifier.total.amount)
    for (const item of modifier.additionalDisplayItems ?? []) checkAndCanonicalizeAmount(item.amount)
    serialized.push([modifier.supportedMethods, modifier.data === undefined ? null : serializeJson(modifier.data)])
    delete modifier.data
  }
  return serialized
}
