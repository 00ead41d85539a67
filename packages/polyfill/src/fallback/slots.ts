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
  /** Where this request raised "payment request is showing", and its pagehide listener; null while it holds no flag. */
  showing: { holder: ShowingHolder; onPageHide: () => void } | null
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
 * "Payment request is showing" belongs to the request's payment-relevant browsing context: the
 * top-level one, shared by all frames of a tab. Each frame runs its own copy of the polyfill, so
 * the flag lives on a window they can all reach, the highest ancestor this frame may script:
 * `window.top` unless a cross-origin frame is in between, else the highest same-origin ancestor
 * (the frame itself, when its parent is cross-origin). `Symbol.for` gives every realm the same key.
 * The flag holds the Document whose request is showing, so a frame that went away without
 * lowering it (its document has no window any more) blocks nobody.
 */
const SHOWING = Symbol.for('alipay-payment-handler.payment-request-is-showing')

/** A window that carries the flag. */
export type ShowingHolder = { [SHOWING]?: Document | null }

/** The window whose flag this realm's requests use. */
export function showingHolder(): ShowingHolder {
  let holder: Window = window
  try {
    // Reading any property of a cross-origin window throws a SecurityError: stop below it.
    for (let parent = holder.parent; parent !== holder; parent = holder.parent) {
      void (parent as ShowingHolder)[SHOWING]
      holder = parent
    }
  } catch {
    // A cross-origin ancestor: this frame and its same-origin ancestors keep a flag of their own.
  }
  return holder as ShowingHolder
}

/** True while a request of a live document is showing under `holder`. */
export function isShowing(holder: ShowingHolder): boolean {
  return (holder[SHOWING]?.defaultView ?? null) !== null
}

/** Raises (`true`) or lowers the flag for this realm's document; lowering leaves another document's flag alone. */
export function setShowing(holder: ShowingHolder, value: boolean): void {
  if (value) holder[SHOWING] = document
  else if (holder[SHOWING] === document) holder[SHOWING] = null
}
