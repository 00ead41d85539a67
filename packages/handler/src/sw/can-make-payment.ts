import { checkPaymentMethodData } from '@alipay-payment-handler/protocol'
import type { CanMakePaymentEventLike } from './events.js'

/**
 * The `canmakepayment` answer, from the event alone: no network, no storage, because Chromium
 * asks before every payment and for `hasEnrolledInstrument()`. Chromium 156 delivers no
 * `methodData` (payment-handler-notes §2.3): then the answer is yes, and the data is judged at `paymentrequest`.
 * When data is delivered, at least one entry for our identifier must be valid.
 */
export function canMakePayment(event: CanMakePaymentEventLike, methodName: string): boolean {
  const entries = event.methodData
  if (!entries) return true
  const ours = entries.filter((entry) => entry.supportedMethods === methodName)
  return ours.some((entry) => checkPaymentMethodData(entry.data).length === 0)
}
