/**
 * The parts of the Payment Handler events the worker's logic reads, as plain structural types.
 * The logic takes these instead of the global event types, so unit tests can pass fake events
 * in Node; the real events (types/payment-handler.d.ts) satisfy them.
 */

/** What `respondWith` resolves with: the URL identifier and the details the merchant receives. */
export interface HandlerResponse {
  methodName: string
  details: Record<string, unknown>
}

/** The members of `PaymentRequestEvent` the handler uses. */
export interface PaymentRequestEventLike {
  readonly paymentRequestId: string
  readonly paymentRequestOrigin: string
  readonly topOrigin: string
  readonly methodData: readonly { supportedMethods: string; data?: unknown }[]
  readonly total: { currency: string; value: string }
  openWindow(url: string): Promise<unknown>
}

/** The members of `CanMakePaymentEvent` the handler reads. Chromium 156 delivers none of them. */
export interface CanMakePaymentEventLike {
  readonly methodData?: readonly { supportedMethods: string; data?: unknown }[]
}

/** A message from a client, reduced to what the handler checks and answers through. */
export interface ClientMessageLike {
  readonly data: unknown
  /** The sender's origin; the worker only listens to its own origin's pages. */
  readonly origin: string
  /** A reply port, when the window sent one. */
  readonly ports: readonly { postMessage(message: unknown): void }[]
  /** The sending client, as a fallback reply path. */
  readonly source: { postMessage(message: unknown): void } | null
}
