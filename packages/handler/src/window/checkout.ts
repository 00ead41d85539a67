import './checkout.css'
import {
  ValidationError,
  amountsEqual,
  validatePaymentMethodData,
  type CheckoutOutcome,
  type CheckoutRequest,
} from '@alipay-payment-handler/protocol'
import { HandlerError, errorMessage } from '../common/errors.js'
import { createSessionsApi, type CreatedSession } from '../common/sessions-api.js'
import { createPopupChannel, createWorkerChannel, type OpenerChannel } from './channel.js'
import { saveContext } from './context.js'
import { codeForProblem, formatAmount, outcomeCode, problemCopy, serverProblem } from './copy.js'
import { detectMode } from './mode.js'
import { outcomeView } from './outcome-views.js'
import { registerHandlerWorker } from './register.js'
import { render, type Action, type Summary } from './view.js'

// Chromium's paymentrequest event may time out after 5 minutes (payment-handler-notes §5); a message keeps the
// worker busy, so ping well inside that and inside the 30 s idle timeout's reach.
const KEEPALIVE_INTERVAL_MS = 20_000

const api = createSessionsApi({ baseUrl: location.origin })
const close: Action = { id: 'close', label: 'Close this window', onClick: () => window.close() }

function problem(code: string, summary: Summary | undefined, actions: Action[]): void {
  const copy = problemCopy(code)
  render({ state: 'problem', problem: code, title: copy.title, message: copy.message, summary, actions })
}

/** A fatal start-up problem: nobody to report to, only a way to close. */
function stranded(code: string): void {
  problem(code, undefined, [close])
}

async function main(): Promise<void> {
  const mode = detectMode(location.href, window.opener != null)
  if (mode.kind === 'invalid') return stranded('BAD_CHECKOUT_URL')
  const channel: OpenerChannel =
    mode.kind === 'worker'
      ? createWorkerChannel(mode.paymentRequestId)
      : createPopupChannel(window.opener as Window, mode.merchantOrigin)

  let request: CheckoutRequest
  try {
    request = await channel.getRequest()
  } catch (error) {
    return stranded(error instanceof HandlerError ? error.code : 'INTERNAL')
  }
  new Checkout(channel, request).start()
}

/** One checkout: review, session, cashier, or a way out at every step. */
class Checkout {
  private readonly summary: Summary
  private session: CreatedSession | undefined
  /** The server call creating the session, while it runs: a cancel waits for it to close it. */
  private creating: Promise<CreatedSession> | undefined
  private ended = false
  private cancelling = false
  private expiryTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly channel: OpenerChannel,
    private readonly request: CheckoutRequest,
  ) {
    const data = request.methodData as Partial<CheckoutRequest['methodData']>
    this.summary = {
      merchantOrigin: request.merchantOrigin,
      subject: typeof data.subject === 'string' ? data.subject : undefined,
      amount: formatAmount(request.total.currency, request.total.value),
      orderId: typeof data.out_trade_no === 'string' ? data.out_trade_no : undefined,
    }
    channel.onAbort((reason) => this.aborted(reason))
  }

  start(): void {
    const { request } = this
    saveContext({
      mode: this.channel.kind,
      paymentRequestId: request.paymentRequestId,
      merchantOrigin: request.merchantOrigin,
    })
    const invalid = this.check()
    if (invalid) {
      return problem(invalid.code, this.summary, [
        this.back({ kind: 'failed', code: invalid.code, message: invalid.message }),
      ])
    }
    if (this.channel.kind === 'worker') {
      const ping = () =>
        this.channel.send({ type: 'KEEPALIVE', payload: { paymentRequestId: request.paymentRequestId } })
      setInterval(() => !this.ended && ping(), KEEPALIVE_INTERVAL_MS)
    }
    void this.createSession()
    registerHandlerWorker()
  }

  /** The window's own checks, the same on both paths: valid data, and the total it signed. */
  private check(): { code: string; message: string } | undefined {
    const { methodData, total } = this.request
    try {
      validatePaymentMethodData(methodData)
    } catch (error) {
      if (error instanceof ValidationError)
        return { code: 'INVALID_METHOD_DATA', message: `"${error.field}" ${error.reason}` }
      throw error
    }
    const fee = methodData.total_fee
    if (total.currency.toUpperCase() !== 'CNY' || fee === undefined || !amountsEqual(fee, total.value)) {
      return {
        code: 'AMOUNT_MISMATCH',
        message: `total ${total.currency} ${total.value}, total_fee ${fee ?? '(none)'}`,
      }
    }
    return undefined
  }

  private async createSession(): Promise<void> {
    render({
      state: 'review',
      title: 'Opening Alipay’s cashier…',
      message: 'You confirm the amount on Alipay’s page.',
      busy: true,
      summary: this.summary,
      actions: [{ id: 'cancel', label: 'Cancel', onClick: () => void this.cancel() }],
    })
    let session: CreatedSession
    try {
      this.creating = api.create(this.request, /Mobi/i.test(navigator.userAgent) ? 'wap' : 'pc')
      session = await this.creating
    } catch (error) {
      if (this.ended || this.cancelling) return
      return this.sessionFailed(error)
    } finally {
      this.creating = undefined
    }
    if (this.ended || this.cancelling) return
    this.session = session
    if (this.channel.kind === 'worker') {
      this.channel.send({
        type: 'SESSION_CREATED',
        payload: { paymentRequestId: this.request.paymentRequestId, sessionId: session.sessionId },
      })
    }
    saveContext({
      mode: this.channel.kind,
      paymentRequestId: this.request.paymentRequestId,
      merchantOrigin: this.request.merchantOrigin,
      sessionId: session.sessionId,
    })
    this.watchExpiry(session.expiresAt)
    // No review press of our own: the buyer pressed Pay in the shop a moment ago, this window's
    // first screen showed whom and what they pay, and the cashier shows the amount again on the
    // button that moves the money. One confirmation, not two.
    this.goToCashier(session)
  }

  private sessionFailed(error: unknown): void {
    const problemName = serverProblem(error)
    const code =
      error instanceof HandlerError && error.code === 'SESSION_REJECTED'
        ? codeForProblem(problemName)
        : error instanceof HandlerError
          ? error.code
          : 'INTERNAL'
    if (code === 'ORDER_EXPIRED') return this.expired()
    const actions: Action[] = []
    if (problemCopy(code).canRetry)
      actions.push({ id: 'retry', label: 'Try again', primary: true, onClick: () => void this.createSession() })
    actions.push(this.back({ kind: 'failed', code: outcomeCode(code, problemName), message: errorMessage(error) }))
    problem(code, this.summary, actions)
  }

  /** The order's it_b_pay deadline, as the signing server computed it. */
  private watchExpiry(expiresAt: string | number | undefined): void {
    if (expiresAt === undefined) return
    const deadline = typeof expiresAt === 'number' ? expiresAt : Date.parse(expiresAt)
    if (Number.isNaN(deadline)) return
    // setTimeout cannot wait longer than 2^31-1 ms; orders that far out never expire in a window.
    const wait = Math.max(0, deadline - Date.now())
    if (wait < 2 ** 31 - 1) this.expiryTimer = setTimeout(() => this.expired(), wait)
  }

  private expired(): void {
    if (this.ended) return
    const copy = problemCopy('ORDER_EXPIRED')
    render({
      state: 'expired',
      problem: 'ORDER_EXPIRED',
      title: copy.title,
      message: copy.message,
      summary: this.summary,
      actions: [this.back({ kind: 'cancelled', reason: 'expired' })],
    })
  }

  private goToCashier(session: CreatedSession): void {
    clearTimeout(this.expiryTimer)
    render({ state: 'redirecting', title: 'Taking you to Alipay…', busy: true, summary: this.summary })
    if (session.cashierUrl) return location.assign(session.cashierUrl)
    if (!session.form)
      return problem('INTERNAL', this.summary, [this.back({ kind: 'failed', code: 'INTERNAL', message: 'no cashier' })])
    const form = document.createElement('form')
    form.method = session.form.method
    form.action = session.form.action
    for (const [name, value] of Object.entries(session.form.fields)) {
      const input = document.createElement('input')
      input.type = 'hidden'
      input.name = name
      input.value = value
      form.append(input)
    }
    document.body.append(form)
    form.submit()
  }

  private async cancel(): Promise<void> {
    this.cancelling = true
    render({ state: 'cancelled', title: 'Cancelling…', busy: true, summary: this.summary })
    // A session still being created is waited for, so it is closed too and nobody can pay it.
    const session = this.session ?? (await this.creating?.catch(() => undefined))
    // Close the trade first, so a cashier tab left open elsewhere cannot take the money.
    if (session) await api.cancel(session.sessionId).catch(() => undefined)
    await this.finish({ kind: 'cancelled', reason: 'buyer' })
  }

  /** "Back to shop": the way out of every problem; reports `outcome` so show() settles. */
  private back(outcome: CheckoutOutcome): Action {
    return { id: 'back', label: 'Back to shop', primary: true, onClick: () => void this.finish(outcome) }
  }

  private async finish(outcome: CheckoutOutcome): Promise<void> {
    if (this.ended) return
    this.ended = true
    clearTimeout(this.expiryTimer)
    render(outcomeView(outcome, { summary: this.summary, close }))
    const reason = await this.channel.finish(this.request.paymentRequestId, outcome).catch(() => undefined)
    if (reason === 'orphaned') render(outcomeView(outcome, { summary: this.summary, orphaned: true, close }))
  }

  private aborted(reason: string): void {
    if (this.ended && reason !== 'orphaned') return
    this.ended = true
    clearTimeout(this.expiryTimer)
    render({
      state: 'aborted',
      title: 'This payment was stopped',
      message: 'The shop cancelled this payment. You have not been charged.',
      summary: this.summary,
      actions: [close],
    })
    if (this.channel.kind === 'popup') window.close()
  }
}

void main().catch(() => stranded('INTERNAL'))
