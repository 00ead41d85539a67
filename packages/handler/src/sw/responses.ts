import { cancelledDetails, type CancelReason, type CheckoutOutcome } from '@alipay-payment-handler/protocol'
import type { HandlerResponse } from './events.js'

/** The response for a checkout that ended without a payment (see CancelledDetails in protocol/). */
export function cancelledResponse(
  methodName: string,
  reason: CancelReason,
  extra: { code?: string; message?: string } = {},
): HandlerResponse {
  return { methodName, details: { ...cancelledDetails(reason, extra) } }
}

/**
 * The response for an outcome. Only call it with a paid outcome the signing server confirmed:
 * its details go to the merchant verbatim.
 */
export function responseForOutcome(methodName: string, outcome: CheckoutOutcome): HandlerResponse {
  switch (outcome.kind) {
    case 'paid':
      return { methodName, details: { ...outcome.details } }
    case 'cancelled':
      return cancelledResponse(methodName, outcome.reason)
    case 'failed':
      return cancelledResponse(methodName, 'failed', { code: outcome.code, message: outcome.message })
  }
}
