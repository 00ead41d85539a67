import { parseWindowMessage, type CheckoutOutcome, type CheckoutRequest } from '@alipay-payment-handler/protocol'

/**
 * The popup's window name starts with this and ends with a random UUID: every request gets a window
 * of its own. A shared name would let one request's window.open() load over another's checkout: a
 * request of a cross-origin frame, which cannot see the flag, or one that show() opened only to
 * close it again when it rejects.
 */
export const POPUP_NAME_PREFIX = 'alipay-checkout-'
// Big enough for the gateway's cashier page; `popup` asks for a minimal window where supported.
const POPUP_FEATURES = 'popup,width=480,height=720'
// There is no close event across origins (payment-handler-notes §7.2), so poll; 250 ms feels instant.
const CLOSED_POLL_MS = 250

/** The open checkout, as show() and its successors drive it. */
export interface CheckoutUi {
  /** Sends the request now if the checkout has announced itself, otherwise on its next CHECKOUT_READY. */
  send(request: CheckoutRequest): void
  /** Tells the checkout to stop (when a reason is given), closes the popup, and removes every listener and timer. */
  close(abortReason?: string): void
}

/**
 * Opens the checkout page in a popup of its own. It must run synchronously inside show(), before any
 * await: popup blockers (Safari's, Firefox's) allow a window only while the click's activation lasts,
 * and opening it uses the activation up. Null means the browser blocked it.
 */
export function openCheckoutWindow(url: string): Window | null {
  try {
    return window.open(url, POPUP_NAME_PREFIX + crypto.randomUUID(), POPUP_FEATURES)
  } catch {
    // Firefox throws InvalidAccessError instead of returning null where the page may not open
    // windows at all (a sandbox without allow-popups): the same refusal, so show() rejects with AbortError.
    return null
  }
}

function isOutcome(value: unknown): value is CheckoutOutcome {
  const outcome = value as Partial<Record<string, unknown>> | null
  if (typeof outcome !== 'object' || outcome === null) return false
  if (outcome['kind'] === 'paid') return typeof outcome['details'] === 'object' && outcome['details'] !== null
  return outcome['kind'] === 'cancelled' || outcome['kind'] === 'failed'
}

/**
 * Talks to the checkout popup. The handshake is accepted only from our popup (`event.source`) on
 * the payment app's exact origin (`event.origin`); everything after it travels over the
 * MessagePort the checkout sent, never over `window`. Each new document in the popup (the return
 * page after the gateway's cashier) announces itself again and gets the request again.
 * `onOutcome` runs at most once: with the checkout's CHECKOUT_DONE, or with a `closed`
 * cancellation when the buyer closes the popup.
 */
/** How long the checkout may take to announce itself before the popup counts as lost. */
export const HANDSHAKE_TIMEOUT_MS = 30_000

export function connectCheckout(
  popup: Window,
  appOrigin: string,
  onOutcome: (outcome: CheckoutOutcome) => void,
): CheckoutUi {
  let port: MessagePort | undefined
  let request: CheckoutRequest | undefined
  let open = true

  const post = () => {
    if (port && request) port.postMessage({ type: 'REQUEST', payload: request })
  }
  const onPortMessage = (event: MessageEvent) => {
    const message = parseWindowMessage(event.data)
    if (message?.type !== 'CHECKOUT_DONE' || message.payload.paymentRequestId !== request?.paymentRequestId) return
    if (isOutcome(message.payload.outcome)) finish(message.payload.outcome)
  }
  const onWindowMessage = (event: MessageEvent) => {
    if (event.origin !== appOrigin || event.source !== popup) return
    const message = parseWindowMessage(event.data)
    const nextPort = event.ports[0]
    if (message?.type !== 'CHECKOUT_READY' || !nextPort) return
    port?.close()
    port = nextPort
    port.onmessage = onPortMessage
    clearTimeout(handshakeTimer)
    post()
  }
  const cleanUp = () => {
    open = false
    window.removeEventListener('message', onWindowMessage)
    clearInterval(timer)
    clearTimeout(handshakeTimer)
    if (port) port.onmessage = null
    port?.close()
  }
  const finish = (outcome: CheckoutOutcome) => {
    // Stay connected after a payment: retry() sends the request again over the same port.
    if (outcome.kind !== 'paid') cleanUp()
    onOutcome(outcome)
  }
  const timer = setInterval(() => {
    if (!popup.closed) return
    cleanUp()
    onOutcome({ kind: 'cancelled', reason: 'closed' })
  }, CLOSED_POLL_MS)
  // A window the browser refused without saying so (Chromium hands back one that never loads)
  // would leave show() pending forever: no checkout within the limit counts as closed.
  const handshakeTimer = setTimeout(() => {
    if (port || !open) return
    cleanUp()
    popup.close()
    onOutcome({ kind: 'cancelled', reason: 'closed' })
  }, HANDSHAKE_TIMEOUT_MS)
  window.addEventListener('message', onWindowMessage)

  return {
    send(next) {
      request = next
      if (open) post()
    },
    close(abortReason) {
      if (abortReason !== undefined && open) port?.postMessage({ type: 'ABORT', payload: { reason: abortReason } })
      if (open) cleanUp()
      popup.close()
    },
  }
}
