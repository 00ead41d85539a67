import {
  amountsEqual,
  parseWindowMessage,
  type CheckoutOutcome,
  type OpenerToWindow,
  type WindowToOpener,
} from '@alipay-payment-handler/protocol'
import { HANDLER_PREFIX, errorMessage } from '../common/errors.js'
import type { SessionState, SessionsApi } from '../common/sessions-api.js'
import type { ClientMessageLike, HandlerResponse } from './events.js'
import type { PendingResponses } from './pending-responses.js'
import { cancelledResponse, responseForOutcome } from './responses.js'
import type { HandlerSession, SessionStore } from './session-store.js'

/** What `handleClientMessage` needs from the worker. */
export interface ClientMessageDeps {
  store: SessionStore
  pending: PendingResponses
  /** Only pages of this origin (the payment app's) may talk to the worker. */
  origin: string
  /** The server is asked, not the window, whether a payment happened. */
  api: Pick<SessionsApi, 'get'>
  now: () => number
  log?: (message: string) => void
}

/** Reasons the worker gives in ABORT, so the window can word its last page. */
export const ABORT_REASONS = {
  /** The worker never saw this payment (or pruned it). */
  unknown: 'unknown-payment',
  /** A response was already decided; a second report changes nothing. */
  settled: 'settled',
  /**
   * The worker was restarted and lost the event: Chromium can no longer take an answer. The
   * payment still counts on the server, and the merchant learns it from the notify.
   */
  orphaned: 'orphaned',
} as const

/**
 * Handles one message from a checkout or return page and posts the reply, if any, to the port
 * the page sent (or to the page itself). Messages from other origins, and anything that is not a
 * WindowToOpener, are ignored.
 */
export async function handleClientMessage(message: ClientMessageLike, deps: ClientMessageDeps): Promise<void> {
  if (message.origin !== deps.origin) return
  const parsed = parseWindowMessage(message.data)
  if (!parsed) return
  const reply = await answer(parsed, deps)
  if (reply) (message.ports[0] ?? message.source)?.postMessage(reply)
}

async function answer(message: WindowToOpener, deps: ClientMessageDeps): Promise<OpenerToWindow | undefined> {
  const { store, now } = deps
  switch (message.type) {
    case 'GET_REQUEST': {
      const id = message.payload.paymentRequestId
      const session = id ? await store.get(id) : undefined
      if (!session) return abort(ABORT_REASONS.unknown)
      if (session.state === 'settled') return abort(ABORT_REASONS.settled)
      // An orphaned session is still served: the buyer may finish, and the notify tells the merchant.
      return { type: 'REQUEST', payload: session.request }
    }
    case 'SESSION_CREATED': {
      const { paymentRequestId, sessionId } = message.payload
      const session = await store.get(paymentRequestId)
      if (!session) return abort(ABORT_REASONS.unknown)
      await store.put({ ...session, sessionId, updatedAt: now() })
      return undefined
    }
    case 'KEEPALIVE': {
      // Receiving the message is what keeps the worker alive; the write keeps the session fresh.
      const session = await store.get(message.payload.paymentRequestId)
      if (!session) return abort(ABORT_REASONS.unknown)
      if (session.state === 'settled') return abort(ABORT_REASONS.settled)
      await store.put({ ...session, updatedAt: now() })
      return undefined
    }
    case 'CHECKOUT_DONE':
      return finish(message.payload.paymentRequestId, message.payload.outcome, deps)
    case 'CHECKOUT_READY':
      // Only the popup path's opener cares about this one.
      return undefined
  }
}

const abort = (reason: string): OpenerToWindow => ({ type: 'ABORT', payload: { reason } })

/** Decides the response for a finished checkout, stores it, and hands it to the live event. */
async function finish(
  id: string,
  outcome: CheckoutOutcome,
  deps: ClientMessageDeps,
): Promise<OpenerToWindow | undefined> {
  const session = await deps.store.get(id)
  if (!session) return abort(ABORT_REASONS.unknown)
  if (session.state === 'settled') {
    // A live event with a stored answer means the first delivery was lost; deliver it now.
    if (session.response && deps.pending.settle(id, session.response)) return undefined
    return abort(ABORT_REASONS.settled)
  }
  const response = await decide(session, outcome, deps)
  await deps.store.put({ ...session, state: 'settled', response, updatedAt: deps.now() })
  if (deps.pending.settle(id, response)) return undefined
  ;(deps.log ?? console.warn)(
    `${HANDLER_PREFIX} Payment ${id} finished after a worker restart; Chromium cannot take the answer.`,
  )
  return abort(ABORT_REASONS.orphaned)
}

/**
 * The response for an outcome the window reports. A paid outcome is never taken from the window:
 * the worker asks the signing server and passes on the details the server verified.
 */
async function decide(
  session: HandlerSession,
  outcome: CheckoutOutcome,
  deps: ClientMessageDeps,
): Promise<HandlerResponse> {
  const { methodName } = session
  if (session.invalid) {
    return cancelledResponse(methodName, 'failed', {
      code: 'INVALID_METHOD_DATA',
      message: `${HANDLER_PREFIX} "${session.invalid.field}" ${session.invalid.reason}`,
    })
  }
  if (outcome.kind !== 'paid') return responseForOutcome(methodName, outcome)
  const unconfirmed = (why: string) =>
    cancelledResponse(methodName, 'failed', {
      code: 'UNCONFIRMED_PAYMENT',
      message: `${HANDLER_PREFIX} The signing server did not confirm the payment (${why}). The merchant's notify decides.`,
    })
  if (!session.sessionId) return unconfirmed('no session id')
  let state
  try {
    state = await deps.api.get(session.sessionId)
  } catch (error) {
    return unconfirmed(errorMessage(error))
  }
  // The window names the session; the worker resolves only with the one created for its own event.
  const foreign = notThisRequest(session, state, outcome)
  if (foreign) {
    return cancelledResponse(methodName, 'failed', {
      code: 'SESSION_MISMATCH',
      message: `${HANDLER_PREFIX} The reported payment is not the one this request asked for (${foreign}).`,
    })
  }
  if (state.outcome) {
    if (state.outcome.kind === 'paid' && state.status !== 'paid') return unconfirmed(`status ${state.status}`)
    return responseForOutcome(methodName, state.outcome)
  }
  if (state.status !== 'paid') return unconfirmed(`status ${state.status}`)
  // The server says paid but keeps no outcome: the window's copy passed the same checks above.
  return responseForOutcome(methodName, outcome)
}

/**
 * Why the server's session is not the one this worker created for the `paymentrequest` event, or
 * undefined when it is: the same session id, payment request, merchant origin, order and amount,
 * and paid details (the server's, or the window's copy) of that order and amount (docs/security.md,
 * rule 5). A server that names none of them is refused too.
 */
export function notThisRequest(
  session: HandlerSession,
  state: SessionState,
  reported: CheckoutOutcome,
): string | undefined {
  const { request } = session
  const order = request.methodData.out_trade_no
  const total = request.total.value
  if (state.sessionId !== session.sessionId) return 'another session'
  if (state.paymentRequestId !== session.paymentRequestId) return 'another payment request'
  if (state.merchantOrigin !== request.merchantOrigin) return 'another merchant'
  if (state.outTradeNo !== order) return 'another order'
  if (!sameAmount(state.totalFee, total)) return 'another amount'
  const paid = state.outcome?.kind === 'paid' ? state.outcome : reported.kind === 'paid' ? reported : undefined
  if (paid) {
    const details = paid.details as unknown as Record<string, unknown>
    if (details['out_trade_no'] !== order) return 'another order'
    if (!sameAmount(details['total_fee'] ?? details['total_amount'], total)) return 'another amount'
  }
  return undefined
}

function sameAmount(a: unknown, b: string): boolean {
  if (typeof a !== 'string') return false
  try {
    return amountsEqual(a, b)
  } catch {
    return false
  }
}
