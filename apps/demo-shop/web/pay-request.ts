import type { PaymentDataView } from './api.js'

/**
 * How long the page waits for the payment app before it calls abort() itself. The handler may
 * hang when its worker is stopped (payment-handler-notes §5), and only abort() ends show() then.
 */
export const MERCHANT_TIMEOUT_MS = 10 * 60_000

/**
 * The timeout this page uses: ten minutes, unless `localStorage['demo-shop-payment-timeout-ms']`
 * says otherwise, so a developer (or a test) can watch what a timeout does without waiting.
 */
export function merchantTimeoutMs(): number {
  const chosen = Number(localStorage.getItem('demo-shop-payment-timeout-ms'))
  return Number.isInteger(chosen) && chosen > 0 ? chosen : MERCHANT_TIMEOUT_MS
}

/** What the page learns from one Payment Request: the response, or why there is none. */
export type RequestOutcome =
  { kind: 'response'; response: PaymentResponse } | { kind: 'error'; error: unknown; timedOut: boolean }

/** The request showing right now, so a test or a curious developer can abort() it from the console. */
declare global {
  interface Window {
    shopPayment?: { request: PaymentRequest }
  }
}

/**
 * Builds the request and calls show() at once. Call it synchronously from the click handler:
 * show() needs the click's user activation, and any await before it would spend it.
 */
export function showPaymentRequest(prepared: PaymentDataView): Promise<RequestOutcome> {
  const request = new PaymentRequest([{ supportedMethods: 'alipay', data: prepared.data }], {
    total: { label: prepared.label, amount: prepared.total },
  })
  window.shopPayment = { request }
  const shown = request.show()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void request.abort().catch(() => undefined)
  }, merchantTimeoutMs())
  return shown.then(
    (response): RequestOutcome => {
      clearTimeout(timer)
      return { kind: 'response', response }
    },
    (error: unknown): RequestOutcome => {
      clearTimeout(timer)
      return { kind: 'error', error, timedOut }
    },
  )
}
