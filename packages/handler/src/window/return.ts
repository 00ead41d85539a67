import './checkout.css'
import type { CheckoutOutcome } from '@alipay-payment-handler/protocol'
import { HandlerError } from '../common/errors.js'
import { sessionIdFromReturnPath } from '../common/paths.js'
import { createSessionsApi, type SessionState } from '../common/sessions-api.js'
import { createPopupChannel, createWorkerChannel, type OpenerChannel } from './channel.js'
import { loadContext, type CheckoutContext } from './context.js'
import { codeForProblem, outcomeCode, problemCopy, serverProblem } from './copy.js'
import { outcomeView } from './outcome-views.js'
import { registerHandlerWorker } from './register.js'
import { render, type Action } from './view.js'

const api = createSessionsApi({ baseUrl: location.origin })
const close: Action = { id: 'close', label: 'Close this window', onClick: () => window.close() }
const context = loadContext()
const sessionId = sessionIdFromReturnPath(location.pathname)

/**
 * The channel back to whoever opened the checkout. The popup navigated away and back, so its old
 * port is gone: a new handshake with window.opener, to the merchant origin saved before leaving.
 */
function channelFor(saved: CheckoutContext | undefined): OpenerChannel | undefined {
  if (!saved) return undefined
  if (saved.mode === 'worker') return window.opener == null ? createWorkerChannel(saved.paymentRequestId) : undefined
  const opener = window.opener as Window | null
  return opener && !opener.closed ? createPopupChannel(opener, saved.merchantOrigin) : undefined
}

/** An outcome for a server answer without one: the status alone never makes a payment. */
function outcomeOf(state: SessionState): CheckoutOutcome {
  if (state.outcome) return state.outcome
  switch (state.status) {
    case 'expired':
      return { kind: 'cancelled', reason: 'expired' }
    case 'cancelled':
    case 'aborted':
      return { kind: 'cancelled', reason: 'closed' }
    default:
      return { kind: 'failed', code: 'UNCONFIRMED_PAYMENT', message: `session status ${state.status}` }
  }
}

let reported = false

async function report(outcome: CheckoutOutcome): Promise<void> {
  if (reported) return
  reported = true
  const channel = channelFor(context)
  // Show the result first: on the native path Chromium closes this window as soon as the worker
  // answers, and a buyer should never stare at "Confirming…" while that happens.
  render(outcomeView(outcome, { orphaned: !channel, close }))
  if (channel && context) {
    const reason = await channel.finish(context.paymentRequestId, outcome).catch(() => undefined)
    if (reason === 'orphaned') render(outcomeView(outcome, { orphaned: true, close }))
  }
  registerHandlerWorker()
}

/**
 * The cashier's "cancel, back to the merchant" (its show_url / quit_url is this page with `?quit=1`):
 * the buyer's cancel, as the checkout's own Cancel button. The server's answer wins when the trade
 * was paid or closed a moment before.
 */
async function quit(id: string): Promise<void> {
  render({ state: 'loading', title: 'Going back to the shop…', busy: true })
  const state = await api.cancel(id).catch(() => undefined)
  // Still open after the cancel: the gateway refused to close (paid meanwhile?); never claim a cancel then.
  const open = state !== undefined && state.status !== 'cancelled' && state.status !== 'aborted'
  await report(state?.outcome ?? (open ? outcomeOf(state) : { kind: 'cancelled', reason: 'buyer' }))
}

async function confirm(): Promise<void> {
  render({ state: 'confirming', title: 'Confirming your payment…', busy: true })
  if (!sessionId) {
    const copy = problemCopy('BAD_CHECKOUT_URL')
    render({
      state: 'problem',
      problem: 'BAD_CHECKOUT_URL',
      title: copy.title,
      message: copy.message,
      actions: [close],
    })
    return
  }
  let state: SessionState
  try {
    // The gateway's parameters exactly as received: the server verifies their signature.
    state = await api.submitReturn(sessionId, location.search.replace(/^\?/, ''))
  } catch (error) {
    const problemName = serverProblem(error)
    const code =
      error instanceof HandlerError && error.code === 'SESSION_REJECTED'
        ? codeForProblem(problemName)
        : 'UNCONFIRMED_PAYMENT'
    const copy = problemCopy(code)
    const outcome: CheckoutOutcome = {
      kind: 'failed',
      code: outcomeCode(code, problemName),
      message: error instanceof Error ? error.message : String(error),
    }
    const actions: Action[] = []
    if (copy.canRetry) actions.push({ id: 'retry', label: 'Try again', primary: true, onClick: () => void confirm() })
    actions.push({ id: 'back', label: 'Back to shop', onClick: () => void report(outcome) })
    render({ state: 'problem', problem: code, title: copy.title, message: copy.message, actions })
    return
  }
  await report(outcomeOf(state))
}

// A gateway return always carries signed parameters and never `quit`; the cancel link only `quit`.
if (sessionId && new URLSearchParams(location.search).get('quit') === '1') void quit(sessionId)
else void confirm()
