import type { CheckoutOutcome } from '@alipay-payment-handler/protocol'
import { problemCopy } from './copy.js'
import type { Action, Summary, View } from './view.js'

/** The last page for an outcome, with `close` as the way out. `orphaned`: the worker lost the event. */
export function outcomeView(
  outcome: CheckoutOutcome,
  options: { summary?: Summary | undefined; orphaned?: boolean; close: Action },
): View {
  const { summary, close } = options
  if (outcome.kind === 'paid' && outcome.details.success === 'true') {
    return options.orphaned
      ? {
          state: 'orphaned',
          title: 'Payment complete',
          message: 'Alipay has your payment. Go back to the shop: it will confirm your order in a moment.',
          summary,
          actions: [close],
        }
      : {
          state: 'paid',
          title: 'Payment complete',
          message: 'The shop has been told. You can close this window.',
          summary,
          actions: [close],
        }
  }
  if (outcome.kind === 'paid') {
    const copy = problemCopy('UNCONFIRMED_PAYMENT')
    return {
      state: 'problem',
      problem: 'UNCONFIRMED_PAYMENT',
      title: copy.title,
      message: copy.message,
      summary,
      actions: [close],
    }
  }
  if (outcome.kind === 'cancelled' && outcome.reason === 'expired') {
    const copy = problemCopy('ORDER_EXPIRED')
    return {
      state: 'expired',
      problem: 'ORDER_EXPIRED',
      title: copy.title,
      message: copy.message,
      summary,
      actions: [close],
    }
  }
  if (outcome.kind === 'cancelled') {
    return {
      state: 'cancelled',
      title: 'Payment cancelled',
      message: 'You have not been charged. You can close this window.',
      summary,
      actions: [close],
    }
  }
  const copy = problemCopy(outcome.code)
  return {
    state: 'problem',
    problem: outcome.code,
    title: copy.title,
    message: copy.message,
    summary,
    actions: [close],
  }
}
