import { toDictionary, toDOMString, typeError } from '../webidl.js'
import { domError } from './dom-errors.js'

/**
 * PaymentRequestUpdateEvent (https://w3c.github.io/payment-request/#paymentrequestupdateevent-interface).
 * The checkout protocol has no payment-method-change message, so the fallback never fires one
 * itself; every instance a page can hold is untrusted, and updateWith() throws as the spec says.
 */
export class PaymentRequestUpdateEvent extends Event {
  constructor(type: string, eventInitDict?: EventInit) {
    if (arguments.length < 1) typeError("Failed to construct 'PaymentRequestUpdateEvent': 1 argument required.")
    super(toDOMString(type), eventInitDict)
  }

  /** Throws InvalidStateError for an untrusted event (step 2 of the spec's updateWith()). */
  updateWith(detailsPromise: unknown): void {
    if (arguments.length < 1) typeError("Failed to execute 'updateWith': 1 argument required.")
    void Promise.resolve(detailsPromise)
    if (!this.isTrusted) throw domError('InvalidStateError', 'updateWith() needs an event fired by the browser.')
  }
}

/** The init dictionary of PaymentMethodChangeEvent. */
export interface PaymentMethodChangeEventInit extends EventInit {
  methodName?: string
  methodDetails?: object | null
}

const methodChanges = new WeakMap<Event, { methodName: string; methodDetails: object | null }>()

/** PaymentMethodChangeEvent (https://w3c.github.io/payment-request/#paymentmethodchangeevent-interface). */
export class PaymentMethodChangeEvent extends PaymentRequestUpdateEvent {
  constructor(type: string, eventInitDict?: PaymentMethodChangeEventInit) {
    if (arguments.length < 1) typeError("Failed to construct 'PaymentMethodChangeEvent': 1 argument required.")
    const dict = toDictionary(eventInitDict, 'eventInitDict')
    const details = dict['methodDetails'] ?? null
    if (details !== null && typeof details !== 'object' && typeof details !== 'function') {
      typeError('eventInitDict.methodDetails is not an object.')
    }
    const methodName = dict['methodName'] === undefined ? '' : toDOMString(dict['methodName'])
    super(type, eventInitDict)
    methodChanges.set(this, { methodName, methodDetails: details as object | null })
  }

  /** The identifier of the method the buyer switched to. */
  get methodName(): string {
    return methodChanges.get(this)?.methodName ?? typeError('Illegal invocation.')
  }

  /** What the payment method told the merchant about the change, or null. */
  get methodDetails(): object | null {
    const change = methodChanges.get(this)
    return change ? change.methodDetails : typeError('Illegal invocation.')
  }
}
