import { HANDLER_PREFIX, errorMessage } from '../common/errors.js'
import type { SessionsApi } from '../common/sessions-api.js'
import type { PendingResponses } from './pending-responses.js'
import { cancelledResponse } from './responses.js'
import { inFlightSessions, type SessionStore } from './session-store.js'

/** What `handleAbortPayment` needs from the worker. */
export interface AbortPaymentDeps {
  store: SessionStore
  pending: PendingResponses
  api: Pick<SessionsApi, 'abort'>
  methodName: string
  now: () => number
  log?: (message: string) => void
  /** How long the merchant's abort() may wait for the server. Chromium waits for our answer. */
  serverWaitMs?: number
}

// abort() should feel instant; the server call keeps running in waitUntil if it is slower.
const DEFAULT_SERVER_WAIT_MS = 3_000

/**
 * Answers `abortpayment` (the merchant's `abort()`). The event names no request, and Chromium
 * shows one payment at a time, so every payment in flight is closed: on the server (the trade is
 * closed at the gateway when unpaid) and in the store; the live event is dropped, not answered
 * (see PendingResponses.drop), because Chromium ends it with the abort. Always answers true,
 * because refusing leaves the merchant with a payment it no longer wants. `background` is the
 * server work, for the caller's `waitUntil`.
 */
export function handleAbortPayment(deps: AbortPaymentDeps): { answer: Promise<boolean>; background: Promise<void> } {
  const log = deps.log ?? ((message: string) => console.warn(message))
  const response = cancelledResponse(deps.methodName, 'aborted')
  const work = (async () => {
    const sessions = await inFlightSessions(deps.store, deps.now()).catch((error: unknown) => {
      log(`${HANDLER_PREFIX} Could not read sessions on abort: ${errorMessage(error)}`)
      return []
    })
    const calls: Promise<unknown>[] = []
    for (const session of sessions) {
      await deps.store
        .put({ ...session, state: 'settled', response, updatedAt: deps.now() })
        .catch((error: unknown) => log(`${HANDLER_PREFIX} Could not store the abort: ${errorMessage(error)}`))
      deps.pending.drop(session.paymentRequestId)
      if (session.sessionId) {
        calls.push(
          deps.api
            .abort(session.sessionId)
            .catch((error: unknown) => log(`${HANDLER_PREFIX} Server abort failed: ${errorMessage(error)}`)),
        )
      }
    }
    // Live events whose session never reached the store (IndexedDB failed) are let go too.
    for (const id of deps.pending.ids()) deps.pending.drop(id)
    await Promise.all(calls)
  })()
  const wait = new Promise<void>((resolve) => setTimeout(resolve, deps.serverWaitMs ?? DEFAULT_SERVER_WAIT_MS))
  return { answer: Promise.race([work, wait]).then(() => true), background: work }
}
