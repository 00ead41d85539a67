/**
 * What the return page needs to know about the checkout that sent the buyer to the cashier. The
 * window navigates away to the gateway and back, so this lives in sessionStorage: per tab, per
 * origin, and it survives exactly that round trip.
 */
export interface CheckoutContext {
  mode: 'worker' | 'popup'
  paymentRequestId: string
  merchantOrigin: string
  sessionId?: string
}

const KEY = 'alipay-handler:checkout'

/** Saves the context for the return page. Storage errors (private modes, quota) are ignored. */
export function saveContext(context: CheckoutContext): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(context))
  } catch {
    // The return page then shows the result without reporting it; the notify still tells the shop.
  }
}

/** The saved context, or undefined when there is none or it is malformed. */
export function loadContext(): CheckoutContext | undefined {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? 'null')
    if (typeof value !== 'object' || value === null) return undefined
    const { mode, paymentRequestId, merchantOrigin } = value as Record<string, unknown>
    if (
      (mode !== 'worker' && mode !== 'popup') ||
      typeof paymentRequestId !== 'string' ||
      typeof merchantOrigin !== 'string'
    ) {
      return undefined
    }
    return value as CheckoutContext
  } catch {
    return undefined
  }
}
