import {
  parseOpenerMessage,
  type CheckoutOutcome,
  type CheckoutRequest,
  type OpenerToWindow,
  type WindowToOpener,
} from '@alipay-payment-handler/protocol'
import { HandlerError } from '../common/errors.js'

/** How the checkout talks to whoever opened it: the service worker or the polyfill's page. */
export interface OpenerChannel {
  readonly kind: 'worker' | 'popup'
  /** The request to pay. Rejects with a HandlerError when the opener refuses or stays silent. */
  getRequest(): Promise<CheckoutRequest>
  /** Fire and forget (SESSION_CREATED, KEEPALIVE). */
  send(message: WindowToOpener): void
  /** Reports the end; resolves with the opener's ABORT reason, if it answered one. */
  finish(paymentRequestId: string, outcome: CheckoutOutcome): Promise<string | undefined>
  /** The opener's ABORT, whenever it comes (merchant abort(), orphaned payment). */
  onAbort(listener: (reason: string) => void): void
}

// The worker answers from IndexedDB in milliseconds; a restarting worker needs a little more.
const REQUEST_TIMEOUT_MS = 10_000
// The worker replies to CHECKOUT_DONE only when something is wrong (orphaned, settled, unknown).
const DONE_REPLY_WAIT_MS = 2_000
// The polyfill answers CHECKOUT_READY at once; a popup that hears nothing is stranded.
const POPUP_REQUEST_TIMEOUT_MS = 15_000

/**
 * The native path: messages to the controlling worker, each with its own reply port. The window
 * was opened by openWindow(), so it is controlled by our worker (payment-handler-notes §2.3); `ready.active`
 * covers the moment a restarted worker is not yet the controller.
 */
export function createWorkerChannel(paymentRequestId: string): OpenerChannel {
  const abortListeners: ((reason: string) => void)[] = []

  async function post(message: WindowToOpener, replyWaitMs: number): Promise<OpenerToWindow | undefined> {
    const registration = await navigator.serviceWorker.ready
    const worker = navigator.serviceWorker.controller ?? registration.active
    if (!worker) throw new HandlerError('UNKNOWN_PAYMENT', 'No active payment handler worker.')
    const { port1, port2 } = new MessageChannel()
    const reply = new Promise<OpenerToWindow | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), replyWaitMs)
      port1.onmessage = (event) => {
        clearTimeout(timer)
        resolve(parseOpenerMessage(event.data))
      }
    })
    worker.postMessage(message, [port2])
    const answer = await reply
    port1.close()
    if (answer?.type === 'ABORT') for (const listener of abortListeners) listener(answer.payload.reason)
    return answer
  }

  return {
    kind: 'worker',
    async getRequest() {
      const answer = await post({ type: 'GET_REQUEST', payload: { paymentRequestId } }, REQUEST_TIMEOUT_MS)
      if (answer?.type === 'REQUEST') return answer.payload
      throw new HandlerError('UNKNOWN_PAYMENT', `The payment handler did not serve request ${paymentRequestId}.`, {
        reason: answer?.type === 'ABORT' ? answer.payload.reason : 'timeout',
      })
    },
    send(message) {
      void post(message, DONE_REPLY_WAIT_MS).catch(() => undefined)
    },
    async finish(id, outcome) {
      const answer = await post(
        { type: 'CHECKOUT_DONE', payload: { paymentRequestId: id, outcome } },
        DONE_REPLY_WAIT_MS,
      )
      return answer?.type === 'ABORT' ? answer.payload.reason : undefined
    },
    onAbort(listener) {
      abortListeners.push(listener)
    },
  }
}

/**
 * The popup path: a MessageChannel handed to `opener` with the merchant's exact origin as
 * targetOrigin, so no other page can receive the port. After that only the port is used; its
 * messages can come from nobody else.
 */
export function createPopupChannel(opener: Window, merchantOrigin: string): OpenerChannel {
  const { port1, port2 } = new MessageChannel()
  const abortListeners: ((reason: string) => void)[] = []
  let receiveRequest: ((request: CheckoutRequest) => void) | undefined
  const request = new Promise<CheckoutRequest>((resolve, reject) => {
    receiveRequest = resolve
    setTimeout(
      () => reject(new HandlerError('BAD_CHECKOUT_URL', `The page at ${merchantOrigin} sent no payment request.`)),
      POPUP_REQUEST_TIMEOUT_MS,
    )
  })
  port1.onmessage = (event) => {
    const message = parseOpenerMessage(event.data)
    if (message?.type === 'REQUEST') receiveRequest?.(message.payload)
    if (message?.type === 'ABORT') for (const listener of abortListeners) listener(message.payload.reason)
  }
  const ready: WindowToOpener = { type: 'CHECKOUT_READY', payload: { version: 1 } }
  opener.postMessage(ready, merchantOrigin, [port2])

  return {
    kind: 'popup',
    async getRequest() {
      const received = await request
      if (received.merchantOrigin !== merchantOrigin) {
        throw new HandlerError(
          'BAD_CHECKOUT_URL',
          `The request names ${received.merchantOrigin}, the opener is ${merchantOrigin}.`,
        )
      }
      return received
    },
    send(message) {
      port1.postMessage(message)
    },
    async finish(id, outcome) {
      // Queued in the port until the opener starts it: no need to wait for its REQUEST first.
      port1.postMessage({ type: 'CHECKOUT_DONE', payload: { paymentRequestId: id, outcome } } satisfies WindowToOpener)
      return undefined
    },
    onAbort(listener) {
      abortListeners.push(listener)
    },
  }
}
