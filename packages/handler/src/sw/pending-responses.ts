import type { HandlerResponse } from './events.js'

/**
 * The live `respondWith` promises of this worker instance, by paymentRequestId.
 *
 * This is the one piece of payment state in memory, and on purpose: a resolver cannot be stored
 * in IndexedDB, and it dies with the event it belongs to. Everything else about the payment is in
 * the SessionStore, so a restarted worker (empty registry) still knows the session and can tell
 * an orphaned payment from an unknown one.
 */
export interface PendingResponses {
  /** The promise `respondWith` gets; settled later through `settle`. */
  wait(paymentRequestId: string): Promise<HandlerResponse>
  /** Resolves a waiting response. False when this worker instance has none (orphaned or unknown). */
  settle(paymentRequestId: string, response: HandlerResponse): boolean
  /**
   * Forgets a waiting response without settling it. For abortpayment: Chromium ends the request
   * itself, and a payment response arriving next to the abort answer crashed the merchant's
   * renderer in Chromium 156 (measured), so the old promise is left to die with the worker.
   */
  drop(paymentRequestId: string): boolean
  has(paymentRequestId: string): boolean
  ids(): string[]
}

/** A fresh, empty registry: one per worker instance. */
export function createPendingResponses(): PendingResponses {
  const resolvers = new Map<string, (response: HandlerResponse) => void>()
  return {
    wait(id) {
      // A second request with the same id replaces the first: only the newest event can answer.
      return new Promise((resolve) => resolvers.set(id, resolve))
    },
    settle(id, response) {
      const resolve = resolvers.get(id)
      if (!resolve) return false
      resolvers.delete(id)
      resolve(response)
      return true
    },
    drop: (id) => resolvers.delete(id),
    has: (id) => resolvers.has(id),
    ids: () => [...resolvers.keys()],
  }
}
