import { serializeJson, toDictionary, toDOMString, typeError } from '../webidl.js'
import { checkoutRequest, closeUi, stopShowing, userAborts } from './algorithms.js'
import { deferred } from './deferred.js'
import { rejectWith } from './dom-errors.js'
import { requestSlots, responseSlots, type ResponseSlots } from './slots.js'

const PAYMENT_COMPLETE = ['fail', 'success', 'unknown']
// Only the user agent creates responses: the interface has no constructor (WebIDL "Illegal constructor").
const USER_AGENT = Symbol('user agent')

function slotsOf(response: unknown): ResponseSlots {
  const slots = responseSlots.get(response as EventTarget)
  if (!slots) typeError('Illegal invocation.')
  return slots
}

/** WebIDL turns exceptions of a promise-returning operation into a rejected promise. */
function promiseOperation<T>(steps: () => Promise<T>): Promise<T> {
  try {
    return steps()
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The fallback PaymentResponse (https://w3c.github.io/payment-request/#paymentresponse-interface). */
export class PaymentResponse extends EventTarget {
  constructor(token?: unknown) {
    if (token !== USER_AGENT) typeError('Illegal constructor.')
    super()
  }

  /** The request's id. */
  get requestId(): string {
    return slotsOf(this).requestId
  }

  /** The identifier of the payment method the buyer paid with, as the merchant wrote it. */
  get methodName(): string {
    return slotsOf(this).methodName
  }

  /** What the payment handler returned: for Alipay, the gateway-signed AlipayPaymentResponse. */
  get details(): object {
    return slotsOf(this).details
  }

  /** The [Default] toJSON(): the attributes, nothing else. */
  toJSON(): { requestId: string; methodName: string; details: object } {
    return { requestId: this.requestId, methodName: this.methodName, details: this.details }
  }

  /** Closes the checkout; rejects with InvalidStateError when already completed (or timed out) or while retrying. */
  complete(result?: unknown, details?: unknown): Promise<void> {
    return promiseOperation(() => {
      const slots = slotsOf(this)
      const value = result === undefined ? 'unknown' : toDOMString(result)
      if (!PAYMENT_COMPLETE.includes(value)) typeError(`"${value}" is not a valid value of PaymentComplete.`)
      const data = toDictionary(details, 'details')['data'] ?? null
      if (data !== null && typeof data !== 'object' && typeof data !== 'function')
        typeError('details.data is not an object.')
      if (slots.complete) return rejectWith('InvalidStateError', 'complete() was already called, or timed out.')
      if (slots.retryPromise) return rejectWith('InvalidStateError', 'A retry() is pending.')
      serializeJson(data)
      slots.complete = true
      clearTimeout(slots.completeTimer)
      const request = requestSlots.get(slots.request)
      if (request) {
        closeUi(request)
        stopShowing(request)
      }
      return new Promise<void>((resolve) => setTimeout(resolve, 0))
    })
  }

  /** Asks the checkout for a new answer; resolves when the buyer pays again, rejects with AbortError when they give up. */
  retry(errorFields?: unknown): Promise<void> {
    return promiseOperation(() => {
      const slots = slotsOf(this)
      const fields = toDictionary(errorFields, 'errorFields')
      if (fields['error'] !== undefined) toDOMString(fields['error'])
      if (slots.complete) return rejectWith('InvalidStateError', 'complete() was already called, or timed out.')
      if (slots.retryPromise) return rejectWith('InvalidStateError', 'A retry() is already pending.')
      const request = requestSlots.get(slots.request)
      if (!request) typeError('Illegal invocation.')
      request.state = 'interactive'
      const retryPromise = deferred<void>()
      slots.retryPromise = retryPromise
      clearTimeout(slots.completeTimer)
      // Registered first, so the slot is clear before the merchant's own reactions run.
      const clear = () => {
        slots.retryPromise = null
      }
      retryPromise.promise.then(clear, clear)
      // The checkout has no field-level error display; it starts over with the same request.
      if (request.ui) request.ui.send(checkoutRequest(request))
      else userAborts(slots.request)
      return retryPromise.promise
    })
  }
}

/** Makes the response of "user accepts the payment request", with its slots. */
export function createResponse(request: EventTarget, requestId: string): PaymentResponse {
  const response = new PaymentResponse(USER_AGENT)
  responseSlots.set(response, {
    request,
    complete: false,
    retryPromise: null,
    requestId,
    methodName: '',
    details: {},
    completeTimer: undefined,
  })
  return response
}
