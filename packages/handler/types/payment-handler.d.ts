/**
 * Payment Handler API types for the service worker, transcribed from the W3C IDL
 * (https://w3c.github.io/payment-handler/#idl-index) plus Chromium's `abortpayment`.
 * TypeScript's WebWorker lib has none of them, nor the Payment Request dictionaries the events
 * carry. Checked by tsconfig.worker.json only: the DOM lib declares the dictionaries already.
 */

/** https://w3c.github.io/payment-request/#dom-paymentcurrencyamount */
interface PaymentCurrencyAmount {
  currency: string
  value: string
}

/** https://w3c.github.io/payment-request/#dom-paymentmethoddata */
interface PaymentMethodData {
  supportedMethods: string
  data?: unknown
}

/** https://w3c.github.io/payment-request/#dom-paymentitem */
interface PaymentItem {
  label: string
  amount: PaymentCurrencyAmount
  pending?: boolean
}

/** https://w3c.github.io/payment-request/#dom-paymentdetailsmodifier (Chromium delivers no `data`). */
interface PaymentDetailsModifier {
  supportedMethods: string
  total?: PaymentItem
  additionalDisplayItems?: PaymentItem[]
  data?: unknown
}

/** https://w3c.github.io/payment-request/#dom-paymentshippingoption */
interface PaymentShippingOption {
  id: string
  label: string
  amount: PaymentCurrencyAmount
  selected?: boolean
}

/** https://w3c.github.io/payment-request/#dom-paymentoptions */
interface PaymentOptions {
  requestPayerName?: boolean
  requestBillingAddress?: boolean
  requestPayerEmail?: boolean
  requestPayerPhone?: boolean
  requestShipping?: boolean
  shippingType?: 'shipping' | 'delivery' | 'pickup'
}

/** https://w3c.github.io/payment-request/#dom-addressinit */
interface AddressInit {
  country?: string
  addressLine?: string[]
  region?: string
  city?: string
  dependentLocality?: string
  postalCode?: string
  sortingCode?: string
  organization?: string
  recipient?: string
  phone?: string
}

/** https://w3c.github.io/payment-handler/#dom-paymenthandlerresponse */
interface PaymentHandlerResponse {
  methodName?: string
  details?: object
  payerName?: string | null
  payerEmail?: string | null
  payerPhone?: string | null
  shippingAddress?: AddressInit
  shippingOption?: string | null
}

/** https://w3c.github.io/payment-handler/#dom-paymentrequestdetailsupdate */
interface PaymentRequestDetailsUpdate {
  error?: string
  total?: PaymentCurrencyAmount
  modifiers?: PaymentDetailsModifier[]
  shippingOptions?: PaymentShippingOption[]
  paymentMethodErrors?: object
  shippingAddressErrors?: object
}

/** https://w3c.github.io/payment-handler/#the-canmakepaymentevent */
interface CanMakePaymentEvent extends ExtendableEvent {
  /** Older drafts of the spec (and older Chromiums) had it; Chromium 156 leaves it undefined. */
  readonly methodData?: readonly PaymentMethodData[]
  respondWith(canMakePaymentResponse: Promise<boolean> | boolean): void
}

/** https://w3c.github.io/payment-handler/#the-paymentrequestevent */
interface PaymentRequestEvent extends ExtendableEvent {
  /** Chromium 156 appends a slash ("http://localhost:4100/"): not an origin serialization. */
  readonly topOrigin: string
  readonly paymentRequestOrigin: string
  readonly paymentRequestId: string
  readonly methodData: readonly PaymentMethodData[]
  /** A PaymentCurrencyAmount, not a PaymentItem (IDL type `object`). */
  readonly total: PaymentCurrencyAmount
  readonly modifiers: readonly PaymentDetailsModifier[]
  readonly paymentOptions: PaymentOptions | null
  readonly shippingOptions: readonly PaymentShippingOption[] | null
  openWindow(url: string): Promise<WindowClient | null>
  changePaymentMethod(methodName: string, methodDetails?: object | null): Promise<PaymentRequestDetailsUpdate | null>
  changeShippingAddress(shippingAddress?: AddressInit): Promise<PaymentRequestDetailsUpdate | null>
  changeShippingOption(shippingOption: string): Promise<PaymentRequestDetailsUpdate | null>
  respondWith(handlerResponsePromise: Promise<PaymentHandlerResponse>): void
}

/**
 * Chromium's `abortpayment` (not in the spec): fired by the merchant's `abort()`. Answering
 * `true` makes `show()` reject with AbortError; without a listener `abort()` itself fails.
 */
interface AbortPaymentEvent extends ExtendableEvent {
  respondWith(paymentAbortedResponse: Promise<boolean> | boolean): void
}

interface ServiceWorkerGlobalScopeEventMap {
  canmakepayment: CanMakePaymentEvent
  paymentrequest: PaymentRequestEvent
  abortpayment: AbortPaymentEvent
}
