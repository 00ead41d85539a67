import {
  ValidationError,
  validatePaymentMethodData,
  type CheckoutRequest,
  type PaymentMethodSpecificData,
} from '@alipay-payment-handler/protocol'
import { HANDLER_PREFIX, errorMessage } from '../common/errors.js'
import { checkoutUrl, normalizeOrigin } from '../common/paths.js'
import type { HandlerResponse, PaymentRequestEventLike } from './events.js'
import type { PendingResponses } from './pending-responses.js'
import { cancelledResponse } from './responses.js'
import { pruneSessions, type HandlerSession, type SessionStore } from './session-store.js'

/** What `handlePaymentRequest` needs from the worker. */
export interface PaymentRequestDeps {
  store: SessionStore
  pending: PendingResponses
  /** The payment app origin: the checkout page's and the API's. */
  origin: string
  /** Our URL payment method identifier, the `methodName` of every response. */
  methodName: string
  now: () => number
  log?: (message: string) => void
}

/** The first field the data breaks, or undefined when it is valid PaymentMethodSpecificData. */
function invalidField(data: unknown): HandlerSession['invalid'] {
  try {
    validatePaymentMethodData(data)
    return undefined
  } catch (error) {
    if (error instanceof ValidationError) return { field: error.field, reason: error.reason }
    throw error
  }
}

/**
 * Answers a `paymentrequest`: the promise to pass to `respondWith` (synchronously, by the caller).
 * It stores the session, opens the checkout and resolves when the window reports the end through
 * `handleClientMessage`. It never rejects: a rejected `respondWith` leaves `show()` pending in
 * Chromium, so every failure resolves as CancelledDetails with reason `failed`.
 */
export async function handlePaymentRequest(
  event: PaymentRequestEventLike,
  deps: PaymentRequestDeps,
): Promise<HandlerResponse> {
  const { store, pending, methodName } = deps
  const log = deps.log ?? ((message: string) => console.warn(message))
  const id = event.paymentRequestId
  // Register before opening the window: a fast window may report before openWindow resolves.
  const response = pending.wait(id)

  try {
    const entry = event.methodData.find((method) => method.supportedMethods === methodName) ?? event.methodData[0]
    const data = entry?.data ?? {}
    const request: CheckoutRequest = {
      paymentRequestId: id,
      merchantOrigin: normalizeOrigin(event.paymentRequestOrigin) ?? normalizeOrigin(event.topOrigin) ?? '',
      // Kept as received even when invalid: the window shows the shopper what is wrong.
      methodData: data as PaymentMethodSpecificData,
      total: { currency: event.total.currency, value: event.total.value },
    }
    const invalid = invalidField(data)
    if (invalid) log(`${HANDLER_PREFIX} Payment request ${id}: "${invalid.field}" ${invalid.reason}.`)

    const now = deps.now()
    const session: HandlerSession = {
      paymentRequestId: id,
      methodName,
      request,
      state: 'open',
      createdAt: now,
      updatedAt: now,
    }
    if (invalid) session.invalid = invalid
    // The window opens while the session is written: the write's transaction starts first, so
    // IndexedDB runs the window's later reads after it, and the shopper waits for neither.
    const stored = store.put(session).catch((error: unknown) => {
      // The payment can still finish while this worker lives; only restart recovery is lost.
      log(`${HANDLER_PREFIX} Could not store session ${id} in IndexedDB: ${errorMessage(error)}`)
    })
    const client = await event.openWindow(checkoutUrl(deps.origin, id)).catch((error: unknown) => {
      log(`${HANDLER_PREFIX} openWindow failed: ${errorMessage(error)}`)
      return null
    })
    await stored
    // Housekeeping after the window is up, off the shopper's path.
    void pruneSessions(store, now).catch((error: unknown) =>
      log(`${HANDLER_PREFIX} Pruning sessions failed: ${errorMessage(error)}`),
    )
    if (client == null) {
      // Chromium gives null for a cross-origin URL or when it cannot show a window.
      await settleWithout(
        deps,
        id,
        cancelledResponse(methodName, 'failed', {
          code: 'WINDOW_OPEN_FAILED',
          message: `${HANDLER_PREFIX} The checkout window could not be opened.`,
        }),
      )
    }
  } catch (error) {
    await settleWithout(
      deps,
      id,
      cancelledResponse(methodName, 'failed', { code: 'INTERNAL', message: errorMessage(error) }),
    )
  }
  return response
}

/** Settles a request that never reached a window, and records the answer. */
async function settleWithout(deps: PaymentRequestDeps, id: string, response: HandlerResponse): Promise<void> {
  const session = await deps.store.get(id).catch(() => undefined)
  if (session) {
    await deps.store.put({ ...session, state: 'settled', response, updatedAt: deps.now() }).catch(() => undefined)
  }
  deps.pending.settle(id, response)
}
