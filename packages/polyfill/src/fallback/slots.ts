import type { PolyfillConfig } from '../config.js'
import type { SerializedMethodData } from '../method-data.js'
import type { CheckoutUi } from './checkout-channel.js'
import type { Deferred } from './deferred.js'
import type { DetailsInit } from './details.js'

/** `[[state]]` of a PaymentRequest: created → interactive → closed (retry() goes back to interactive). */
export type RequestState = 'created' | 'interactive' | 'closed'

/** The internal slots of a PaymentRequest (https://w3c.github.io/payment-request/#internal-slots). */
export interface RequestSlots {
  config: PolyfillConfig
  state: RequestState
  updating: boolean
  details: DetailsInit & { id: string }
  serializedMethodData: SerializedMethodData
  serializedModifierData: SerializedMethodData
  acceptPromise: Deferred<EventTarget> | null
  response: EventTarget | null
  /** The identifier the chosen payment handler answers for: `"alipay"` or the app's URL. */
  handler: string | null
  /** The popup while it is ours to drive. */
  ui: CheckoutUi | null
}

/** The internal slots of a PaymentResponse, plus its read-only attributes. */
export interface ResponseSlots {
  request: EventTarget
  complete: boolean
  retryPromise: Deferred<void> | null
  requestId: string
  methodName: string
  details: object
  completeTimer: ReturnType<typeof setTimeout> | undefined
}

/** Slots live outside the objects, so nothing the merchant can reach exposes or changes them. */
export const requestSlots = new WeakMap<EventTarget, RequestSlots>()
export const responseSlots = new WeakMap<EventTarget, ResponseSlots>()

/**
 * The "payment request is showing" boolean. The spec keeps it per top-level browsing context; a
 * script can only keep it per realm, so frames of one tab each get their own.
 */
export const paymentRequestIsShowing = { value: false }
