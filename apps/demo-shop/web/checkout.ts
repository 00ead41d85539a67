import { isCancelledDetails } from '@alipay-payment-handler/protocol'
import { api, useOrderViewToken, type OrderView, type PaymentDataView, type ShopConfig } from './api.js'
import { loadOrderItems, saveCart, saveOrderItems } from './cart.js'
import { announce, byId, formatPrice } from './dom.js'
import { describeError, messageFor, STATUS_LABELS } from './messages.js'
import { submitGatewayForm } from './pay-classic.js'
import { showPaymentRequest } from './pay-request.js'
import { installPolyfill } from './polyfill-setup.js'

/** Which message explains each way a checkout can end without payment. */
const CANCEL_MESSAGES: Record<string, string> = {
  buyer: 'AbortError',
  aborted: 'AbortError',
  closed: 'AbortError',
  expired: 'ORDER_EXPIRED',
  failed: 'PAYMENT_NOT_SUCCESSFUL',
}

/**
 * How the page completes a response that brought no payment. complete('fail') makes Chromium
 * show its own error UI and wait for the buyer to dismiss it; headless, it stays pending and
 * the open payment UI swallows the next show() (measured, Chromium 156). The page explains the
 * failure itself, so it closes the payment UI with 'unknown' and lets the buyer try again.
 */
const NO_PAYMENT: PaymentComplete = 'unknown'

/** How often the page asks the backend about the order while it waits (QR, notifies). */
const POLL_INTERVAL_MS = 2_000

const orderId = new URLSearchParams(location.search).get('order') ?? ''
// A checkout link sent elsewhere (another device) carries the order's view token.
useOrderViewToken(new URLSearchParams(location.search).get('view') ?? undefined)
const cameBackFromCashier = new URLSearchParams(location.search).has('returned')

const heading = byId('checkout-heading')
const payStatus = byId('pay-status')
const serverStatus = byId('server-status')
const options = byId('pay-options')
const payRequestButton = byId<HTMLButtonElement>('pay-request')
const payQrButton = byId<HTMLButtonElement>('pay-qr')
const payWapButton = byId<HTMLButtonElement>('pay-wap')
const cancelButton = byId<HTMLButtonElement>('cancel-order')
const qr = byId('qr')
const afterPay = byId('after-pay')
const reorderButton = byId<HTMLButtonElement>('reorder')

let order: OrderView | undefined
let prepared: PaymentDataView | undefined
let config: ShopConfig | undefined
let busy = false
let preparing = false
let pollTimer: ReturnType<typeof setTimeout> | undefined

function setServerDown(down: boolean): void {
  serverStatus.hidden = !down
  serverStatus.textContent = down ? messageFor('NETWORK') : ''
}

function setBusy(value: boolean): void {
  busy = value
  for (const button of [payQrButton, payWapButton, cancelButton]) button.disabled = value
  payRequestButton.disabled = value || !prepared
  options.setAttribute('aria-busy', String(value))
}

/** Puts the order on the page; a final state ends polling and says what happened, once. */
function render(next: OrderView): void {
  const previous = order?.status
  order = next
  byId('order-id').textContent = next.orderId
  byId('order-subject').textContent = next.subject
  byId('order-amount').textContent = formatPrice(next.amount)
  const badge = byId('order-state')
  badge.textContent = STATUS_LABELS[next.status] ?? next.status
  badge.dataset['state'] = next.status
  const open = next.status === 'wait'
  options.hidden = !open
  afterPay.hidden = open
  // A cancelled or expired order stays so at the gateway; the buyer can still pay for the same items.
  reorderButton.hidden = !(next.status === 'close' || next.status === 'timeout') || !loadOrderItems(next.orderId)
  if (open || previous === next.status) return
  stopPolling()
  if (next.status === 'success') {
    // Paid is final for the cart: what was in it has been bought.
    saveCart({})
    announce(payStatus, `Paid. Thank you! Alipay trade ${next.tradeNo ?? ''} is confirmed by the shop.`, 'success')
  } else if (next.status === 'close') {
    announce(payStatus, messageFor('ORDER_CLOSED'), 'error')
  } else if (next.status === 'timeout') {
    announce(payStatus, messageFor('ORDER_EXPIRED'), 'error')
  } else if (next.status === 'refund') {
    announce(payStatus, 'This order was refunded.', 'info')
  }
  heading.textContent = next.status === 'success' ? 'Thank you for your order' : 'Checkout'
  // The sentence first; "Order again", when shown, is the next stop for Tab.
  payStatus.focus()
}

async function refresh(check = false): Promise<void> {
  try {
    render(check ? await api.check(orderId) : await api.order(orderId))
    setServerDown(false)
  } catch (error) {
    const { code } = describeError(error)
    if (code === 'NETWORK') setServerDown(true)
    else throw error
  }
}

function startPolling(): void {
  if (pollTimer !== undefined) return
  const tick = async (): Promise<void> => {
    pollTimer = undefined
    await refresh().catch(() => undefined)
    // Signing failed earlier (server down?): sign again now that the server may be back.
    if (order?.status === 'wait' && !prepared && !preparing && !busy) void prepare()
    if (order?.status === 'wait') pollTimer = setTimeout(() => void tick(), POLL_INTERVAL_MS)
  }
  pollTimer = setTimeout(() => void tick(), POLL_INTERVAL_MS)
}

function stopPolling(): void {
  clearTimeout(pollTimer)
  pollTimer = undefined
}

/** Signs fresh payment data ahead of the click, because show() must run inside the click. */
async function prepare(): Promise<void> {
  prepared = undefined
  preparing = true
  payRequestButton.disabled = true
  try {
    prepared = await api.paymentData(orderId)
    payRequestButton.disabled = busy
  } catch (error) {
    const { code, message } = describeError(error)
    if (code === 'NETWORK') setServerDown(true)
    else announce(payStatus, message, 'error')
  } finally {
    preparing = false
  }
}

payRequestButton.addEventListener('click', () => {
  if (!prepared || busy) return
  // No await before this call: show() needs this click's user activation.
  let outcome: ReturnType<typeof showPaymentRequest>
  try {
    outcome = showPaymentRequest(prepared)
  } catch (error) {
    // The constructor refused the request (the polyfill validates the data as the spec says).
    announce(payStatus, describeError(error).message, 'error')
    return
  }
  setBusy(true)
  delete payStatus.dataset['reason']
  announce(payStatus, 'Waiting for Alipay… Finish the payment in the Alipay window.')
  void outcome.then(async (result) => {
    if (result.kind === 'error') {
      const { code, message } = describeError(result.error)
      // The stable reason (alipayFailureReason), for whoever debugs the page or tests it.
      payStatus.dataset['reason'] = result.timedOut ? 'TIMEOUT' : code
      announce(payStatus, result.timedOut ? messageFor('TIMEOUT') : message, 'error')
      // The payment app may have closed the trade on cancel; learn the order's real state.
      await refresh(true).catch(() => undefined)
      if (order?.status === 'wait') await prepare()
      setBusy(false)
      return
    }
    const { response } = result
    const details: unknown = response.details
    if (isCancelledDetails(details)) {
      // The payment app answers a checkout without payment this way (a rejected respondWith
      // would leave show() hanging in Chromium); the polyfill may already have made it an AbortError.
      void response.complete(NO_PAYMENT).catch(() => undefined)
      announce(payStatus, messageFor(CANCEL_MESSAGES[details.reason] ?? 'AbortError'), 'error')
      await refresh(true).catch(() => undefined)
      if (order?.status === 'wait') await prepare()
      setBusy(false)
      return
    }
    announce(payStatus, 'Alipay answered. Checking the payment with the shop…')
    try {
      const confirmed = await api.confirm(orderId, details as Record<string, unknown>)
      // confirm answers only for a verified, paid order; anything else is thrown as a problem.
      await response.complete('success')
      render(confirmed)
    } catch (error) {
      void response.complete(NO_PAYMENT).catch(() => undefined)
      announce(payStatus, describeError(error).message, 'error')
      // Learn the order's real state; a notify may still make it paid, so keep watching.
      await refresh().catch(() => undefined)
      if (order?.status === 'wait') {
        startPolling()
        await prepare()
      }
    } finally {
      setBusy(false)
    }
  })
})

payQrButton.addEventListener('click', async () => {
  setBusy(true)
  announce(payStatus, 'Preparing the QR code…')
  try {
    const { qrCode, payUrl } = await api.payUrl(orderId, 'PRE_PAY')
    const image = byId<HTMLImageElement>('qr-image')
    image.src = qrCode ?? ''
    image.alt = `QR code to pay order ${orderId} with Alipay`
    const link = byId<HTMLAnchorElement>('qr-link')
    link.hidden = !payUrl
    if (payUrl) link.href = payUrl
    qr.hidden = false
    announce(payStatus, 'Scan the QR code with Alipay. Waiting for payment…')
    startPolling()
  } catch (error) {
    announce(payStatus, describeError(error).message, 'error')
  } finally {
    setBusy(false)
  }
})

payWapButton.addEventListener('click', async () => {
  setBusy(true)
  announce(payStatus, 'Taking you to Alipay’s mobile cashier…')
  try {
    const { form } = await api.payUrl(orderId, 'WAP_PAY')
    if (!form) throw Object.assign(new Error('no form'), { code: 'UNKNOWN_PAY_TYPE' })
    submitGatewayForm(form)
  } catch (error) {
    announce(payStatus, describeError(error).message, 'error')
    setBusy(false)
  }
})

reorderButton.addEventListener('click', async () => {
  const items = loadOrderItems(orderId)
  if (!items) return
  reorderButton.disabled = true
  announce(payStatus, 'Placing the same order again…')
  try {
    const next = await api.checkout(items)
    saveOrderItems(next.orderId, items)
    location.assign(`/checkout.html?order=${encodeURIComponent(next.orderId)}`)
  } catch (error) {
    announce(payStatus, describeError(error).message, 'error')
    reorderButton.disabled = false
  }
})

cancelButton.addEventListener('click', async () => {
  setBusy(true)
  announce(payStatus, 'Cancelling the order…')
  try {
    render(await api.cancel(orderId))
  } catch (error) {
    announce(payStatus, describeError(error).message, 'error')
  } finally {
    setBusy(false)
  }
})

async function start(): Promise<void> {
  if (!orderId) {
    announce(payStatus, 'No order was given. Start from the shop.', 'error')
    afterPay.hidden = false
    return
  }
  try {
    config = await api.config()
    // The mode on the page says which path show() takes (native handler or popup), for tests and debugging.
    document.body.dataset['polyfill'] = await installPolyfill(config.appOrigin)
    if (config.buyer) {
      byId('buyer-login').textContent = config.buyer.login
      byId('buyer-password').textContent = config.buyer.password
      byId('sandbox-hint').hidden = false
    }
    if (cameBackFromCashier) announce(payStatus, 'Back from Alipay. Checking the payment…')
    await refresh(cameBackFromCashier)
  } catch (error) {
    const { code, message } = describeError(error)
    if (code !== 'NETWORK') announce(payStatus, message, 'error')
    else setServerDown(true)
    return
  }
  if (order?.status !== 'wait') return
  if (cameBackFromCashier) announce(payStatus, 'Not paid yet. Waiting for Alipay to confirm…')
  // Every route can end elsewhere (QR on a phone, a notify): keep the page current.
  startPolling()
  await prepare()
}

void start()
