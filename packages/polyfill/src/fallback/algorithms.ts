import type { AlipayFailureReason, CheckoutRequest } from '@alipay-payment-handler/protocol'
import { isAlipayIdentifier } from '../identifiers.js'
import { domError } from './dom-errors.js'
import { queueTask } from './deferred.js'
import { processDetails, toDetailsUpdate } from './details.js'
import {
  requestSlots,
  responseSlots,
  setShowing,
  type RequestSlots,
  type ResponseSlots,
  type ShowingHolder,
} from './slots.js'

/** The algorithms the user interface (here: the checkout popup) triggers (https://w3c.github.io/payment-request/#algorithms). */

function slotsOf(request: EventTarget): RequestSlots {
  const slots = requestSlots.get(request)
  if (!slots) throw new TypeError('Illegal invocation')
  return slots
}

/** "Close down any remaining user interface", telling the checkout why when there is a reason. */
export function closeUi(slots: RequestSlots, abortReason?: string): void {
  slots.ui?.close(abortReason)
  slots.ui = null
}

/** What the checkout needs: the chosen method's data and the total, a matching modifier's total winning ("last one wins"). */
export function checkoutRequest(slots: RequestSlots): CheckoutRequest {
  const { details, config } = slots
  const data = slots.serializedMethodData.find(([id]) => id === slots.handler)?.[1] ?? 'null'
  const modifier = details.modifiers
    ?.filter((m) => m.total && isAlipayIdentifier(m.supportedMethods, config.methodUrl))
    .pop()
  const { currency, value } = (modifier?.total ?? details.total).amount
  return {
    paymentRequestId: details.id,
    merchantOrigin: location.origin,
    methodData: JSON.parse(data) as CheckoutRequest['methodData'],
    total: { currency, value },
  }
}

/**
 * Sets the request's payment-relevant browsing context's "payment request is showing" to true,
 * until stopShowing(). Meanwhile the request watches for its document to stop being fully active.
 */
export function startShowing(slots: RequestSlots, holder: ShowingHolder): void {
  setShowing(holder, true)
  // The last step of show(): "if document stops being fully active while the user interface is
  // being shown", close it down and lower the flag. pagehide is the last event a document gets when
  // it is navigated away from, put in the back/forward cache, or its frame removed. No task runs
  // for it afterwards, so this cannot wait for one. show() (or a pending retry()) rejects too, for
  // whoever holds the promise outside the document, such as a parent frame.
  const onPageHide = () => closeWith(slots, domError('AbortError', 'page-left: The page was left.'), 'merchant')
  slots.showing = { holder, onPageHide }
  window.addEventListener('pagehide', onPageHide)
}

/** Sets "payment request is showing" back to false, if this request had set it. */
export function stopShowing(slots: RequestSlots): void {
  if (!slots.showing) return
  setShowing(slots.showing.holder, false)
  window.removeEventListener('pagehide', slots.showing.onPageHide)
  slots.showing = null
}

/**
 * Ends a request with `error`: the shared tail of "user aborts", "abort the update", internal
 * errors, early failures of show() and the document going away. A response that waits for
 * complete() counts as completed.
 */
export function closeWith(slots: RequestSlots, error: unknown, abortReason?: string): void {
  slots.state = 'closed'
  stopShowing(slots)
  const response = slots.response && responseSlots.get(slots.response)
  if (response) {
    response.complete = true
    response.retryPromise?.reject(error)
  } else {
    slots.acceptPromise?.reject(error)
  }
  closeUi(slots, abortReason)
}

/** "User aborts the payment request algorithm": the buyer cancelled or closed the popup. */
export function userAborts(request: EventTarget, reason: AlipayFailureReason = 'window-closed'): void {
  queueTask(() => {
    const slots = slotsOf(request)
    if (slots.state !== 'interactive') return
    closeWith(slots, domError('AbortError', `${reason}: The buyer ended the checkout.`))
  })
}

/** The payment handler reported a failure: OperationError, as the spec's "payment handler indicates an internal error" says. */
export function handlerFails(request: EventTarget, message: string): void {
  queueTask(() => {
    const slots = slotsOf(request)
    if (slots.state === 'interactive') closeWith(slots, domError('OperationError', message))
  })
}

/** Acts as if complete() had been called, when the merchant never calls it (the spec allows a timeout). */
function startCompleteTimer(slots: RequestSlots, response: ResponseSlots): void {
  clearTimeout(response.completeTimer)
  response.completeTimer = setTimeout(() => {
    if (response.complete || response.retryPromise) return
    response.complete = true
    closeUi(slots)
    stopShowing(slots)
  }, slots.config.completeTimeout)
}

/** "User accepts the payment request algorithm", with the details the checkout returned. */
export function userAccepts(
  request: EventTarget,
  details: object,
  createResponse: (request: EventTarget, requestId: string) => EventTarget,
): void {
  queueTask(() => {
    const slots = slotsOf(request)
    if (slots.updating || slots.state !== 'interactive') return
    const isRetry = slots.response !== null
    const response = slots.response ?? createResponse(request, slots.details.id)
    slots.response = response
    const responseSlotsOf = responseSlots.get(response)
    if (!responseSlotsOf || slots.handler === null) return
    responseSlotsOf.methodName = slots.handler
    responseSlotsOf.details = details
    slots.state = 'closed'
    if (isRetry) responseSlotsOf.retryPromise?.resolve()
    else slots.acceptPromise?.resolve(response)
    startCompleteTimer(slots, responseSlotsOf)
  })
}

/** "Abort the update": a details promise rejected, or fulfilled with details that fail the checks. */
function abortUpdate(request: EventTarget, exception: unknown): void {
  const slots = slotsOf(request)
  closeUi(slots)
  queueTask(() => {
    closeWith(slots, exception)
    slots.updating = false
  })
}

/**
 * "Update a PaymentRequest's details algorithm" (used by show(detailsPromise)). The checkout gets
 * the request only once the update has settled, so the buyer never pays a stale total.
 */
export function updateDetails(request: EventTarget, detailsPromise: Promise<unknown>): void {
  const slots = slotsOf(request)
  slots.updating = true
  detailsPromise.then(
    (value) => {
      let serializedModifierData
      let details
      try {
        details = toDetailsUpdate(value)
        serializedModifierData = processDetails(details, true)
      } catch (error) {
        abortUpdate(request, error)
        return
      }
      if (details.total) slots.details.total = details.total
      if (details.displayItems) slots.details.displayItems = details.displayItems
      if (details.modifiers) {
        slots.details.modifiers = details.modifiers
        slots.serializedModifierData = serializedModifierData
      }
      slots.updating = false
      if (slots.state === 'interactive') slots.ui?.send(checkoutRequest(slots))
    },
    () =>
      abortUpdate(
        request,
        domError('AbortError', 'merchant-aborted: The details promise passed to show() was rejected.'),
      ),
  )
}
