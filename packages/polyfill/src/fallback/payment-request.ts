import { failureReasonOfOutcome, type CheckoutOutcome } from '@alipay-payment-handler/protocol'
import type { PolyfillConfig } from '../config.js'
import { isAlipayIdentifier } from '../identifiers.js'
import { processPaymentMethods, toMethodDataSequence, validateAlipayData } from '../method-data.js'
import { typeError } from '../webidl.js'
import {
  checkoutRequest,
  closeUi,
  closeWith,
  handlerFails,
  startShowing,
  stopShowing,
  updateDetails,
  userAborts,
  userAccepts,
} from './algorithms.js'
import { connectCheckout, openCheckoutWindow } from './checkout-channel.js'
import { deferred, queueTask } from './deferred.js'
import { toDetailsInit, processDetails } from './details.js'
import { domError, rejectWith, type DOMErrorName } from './dom-errors.js'
import { createResponse, type PaymentResponse } from './payment-response.js'
import { isShowing, requestSlots, responseSlots, showingHolder, type RequestSlots } from './slots.js'

let config: PolyfillConfig | undefined

/** Gives the fallback its configuration; installFallback() calls it once. */
export function configure(next: PolyfillConfig): void {
  config = next
}

function slotsOf(request: unknown): RequestSlots {
  const slots = requestSlots.get(request as EventTarget)
  if (!slots) typeError('Illegal invocation.')
  return slots
}

/** The "payment" permissions-policy feature: only Chromium lets a page ask; elsewhere we assume allowed. */
function allowedToUsePayment(): boolean {
  const policy = (document as { featurePolicy?: { allowsFeature(feature: string): boolean } }).featurePolicy
  return policy ? policy.allowsFeature('payment') : true
}

function onOutcome(request: PaymentRequest, outcome: CheckoutOutcome): void {
  if (outcome.kind === 'paid') userAccepts(request, outcome.details, createResponse)
  else if (outcome.kind === 'cancelled') userAborts(request, failureReasonOfOutcome(outcome))
  else handlerFails(request, `${failureReasonOfOutcome(outcome)}: ${outcome.code} ${outcome.message}`)
}

const handlers = new WeakMap<PaymentRequest, { listener: (event: Event) => void; value: unknown }>()

/**
 * The fallback PaymentRequest (https://w3c.github.io/payment-request/#paymentrequest-interface):
 * the spec's constructor checks in the spec's order, its state machine, and a checkout popup as
 * the payment UI.
 */
export class PaymentRequest extends EventTarget {
  constructor(methodData: PaymentMethodData[], details: PaymentDetailsInit) {
    if (arguments.length < 2) {
      typeError(`Failed to construct 'PaymentRequest': 2 arguments required, but only ${arguments.length} present.`)
    }
    if (!config) typeError('The Alipay polyfill is not installed.')
    // WebIDL converts both arguments before the algorithm's first step.
    const list = toMethodDataSequence(methodData)
    const init = toDetailsInit(details)
    if (!allowedToUsePayment())
      throw domError('SecurityError', 'not-supported: The "payment" feature is not allowed in this document.')
    const id = init.id ?? crypto.randomUUID()
    const serializedMethodData = processPaymentMethods(list, config.methodUrl)
    const serializedModifierData = processDetails(init, false)
    super()
    requestSlots.set(this, {
      config,
      state: 'created',
      updating: false,
      details: { ...init, id },
      serializedMethodData,
      serializedModifierData,
      acceptPromise: null,
      response: null,
      handler: null,
      ui: null,
      showing: null,
    })
  }

  /** details.id, or the UUID the constructor made. */
  get id(): string {
    return slotsOf(this).details.id
  }

  /** The EventHandler attribute for "paymentmethodchange". */
  get onpaymentmethodchange(): ((this: PaymentRequest, event: Event) => unknown) | null {
    slotsOf(this)
    return (handlers.get(this)?.value as ((this: PaymentRequest, event: Event) => unknown) | undefined) ?? null
  }

  set onpaymentmethodchange(value: unknown) {
    slotsOf(this)
    const handler = handlers.get(this) ?? {
      value: null,
      listener: (event: Event) => {
        const current = handlers.get(this)?.value
        if (typeof current === 'function') (current as (event: Event) => unknown).call(this, event)
      },
    }
    // Registered once, at the first assignment, so it keeps its place among the listeners.
    if (!handlers.has(this)) this.addEventListener('paymentmethodchange', handler.listener)
    handler.value = typeof value === 'object' || typeof value === 'function' ? value : null
    handlers.set(this, handler)
  }

  /**
   * Opens the checkout popup, following the steps of https://w3c.github.io/payment-request/#show-method
   * in their order. The window opens synchronously, inside the caller's click: Safari's and
   * Firefox's popup blockers refuse it after any await.
   */
  show(detailsPromise?: Promise<PaymentDetailsUpdate>): Promise<PaymentResponse> {
    const slots = requestSlots.get(this)
    if (!slots) return Promise.reject(new TypeError('Illegal invocation'))
    const updated = arguments.length > 0 && detailsPromise !== undefined ? Promise.resolve(detailsPromise) : undefined
    // The transient activation check. The spec leaves it to the user agent (a MAY), and puts it
    // first, before the [[state]] check; the fallback always makes it, since the popup needs the
    // activation anyway, and where the spec puts it. So a second show() in the same click is a
    // SecurityError here, where Chromium, which checks [[state]] first, says InvalidStateError.
    const activation = navigator.userActivation as UserActivation | undefined
    if (activation && !activation.isActive) {
      return rejectWith(
        'SecurityError',
        'user-activation-required: show() must be called from a user gesture, such as a click handler.',
      )
    }
    // "Consume user activation", before every later check. A page has no call that only consumes
    // it: opening a window is what does. So the checkout's own window opens here; it becomes the
    // payment UI when the checks below pass, and closes again, unseen, when one fails. A throwaway
    // window instead would spend the one window popup blockers allow per activation, and the
    // checkout's window.open() after it would be refused.
    const popup = openCheckoutWindow(slots.config.checkoutUrl(location.origin))
    const refuse = (name: DOMErrorName, message: string) => {
      popup?.close()
      return rejectWith(name, message)
    }
    // A document that is no longer fully active fails here too: unloading a document makes it hidden.
    if (document.visibilityState !== 'visible') return refuse('AbortError', 'page-left: The document is not visible.')
    if (slots.state !== 'created')
      return refuse('InvalidStateError', 'invalid-state: show() was already called on this request.')
    const holder = showingHolder()
    if (isShowing(holder)) {
      slots.state = 'closed'
      return refuse('AbortError', 'already-showing: Another PaymentRequest is already showing.')
    }
    slots.state = 'interactive'
    const acceptPromise = deferred<PaymentResponse>()
    slots.acceptPromise = acceptPromise as RequestSlots['acceptPromise']
    // The spec's optional step "reject acceptPromise with an AbortError, set [[state]] to closed":
    // a refused window is a checkout the buyer aborted before seeing it.
    if (!popup) {
      slots.state = 'closed'
      acceptPromise.reject(domError('AbortError', 'popup-blocked: The browser blocked the checkout window.'))
      return acceptPromise.promise
    }
    startShowing(slots, holder)
    // "Return acceptPromise and perform the remaining steps in parallel": a method's data that its
    // data type refuses, or no method anybody handles, reaches the merchant through acceptPromise a
    // task later, the request interactive until then (abort() still works).
    const handler = slots.serializedMethodData.find(([id]) => isAlipayIdentifier(id, slots.config.methodUrl))
    let error: unknown
    try {
      if (handler) validateAlipayData(JSON.parse(handler[1] ?? 'null') ?? {})
      else error = domError('NotSupportedError', 'not-supported: None of the payment methods is supported.')
    } catch (invalid) {
      error = invalid
    }
    if (!handler || error !== undefined) {
      popup.close()
      queueTask(() => closeWith(slots, error))
      return acceptPromise.promise
    }
    slots.handler = handler[0]
    slots.ui = connectCheckout(popup, slots.config.appOrigin, (outcome) => onOutcome(this, outcome))
    if (updated) updateDetails(this, updated)
    else slots.ui.send(checkoutRequest(slots))
    return acceptPromise.promise
  }

  /** Closes the checkout and rejects show() with AbortError; InvalidStateError when nothing is showing or a retry is pending. */
  abort(): Promise<void> {
    const slots = requestSlots.get(this)
    if (!slots) return Promise.reject(new TypeError('Illegal invocation'))
    if (slots.response && responseSlots.get(slots.response)?.retryPromise) {
      return rejectWith('InvalidStateError', 'invalid-state: abort() cannot interrupt a pending retry().')
    }
    if (slots.state !== 'interactive')
      return rejectWith('InvalidStateError', 'invalid-state: The request is not showing.')
    const promise = deferred<void>()
    closeUi(slots, 'merchant')
    queueTask(() => {
      slots.state = 'closed'
      stopShowing(slots)
      slots.acceptPromise?.reject(domError('AbortError', 'merchant-aborted: The merchant aborted the payment.'))
      promise.resolve()
    })
    return promise.promise
  }

  /** True when the payment app serves one of the methods; it does not mean the buyer has an account. */
  canMakePayment(): Promise<boolean> {
    const slots = requestSlots.get(this)
    if (!slots) return Promise.reject(new TypeError('Illegal invocation'))
    if (slots.state !== 'created')
      return rejectWith('InvalidStateError', 'invalid-state: canMakePayment() needs a request not yet shown.')
    return Promise.resolve(slots.serializedMethodData.some(([id]) => isAlipayIdentifier(id, slots.config.methodUrl)))
  }
}
