import { api, type CounterView } from './api.js'
import { announce, byId } from './dom.js'
import { describeError } from './messages.js'

/**
 * The counter page: one barcode payment at a time. The backend runs the payment (and its polling,
 * and the cancel at the time limit); this page only starts it, shows its stage, and can cancel it.
 */
const form = byId<HTMLFormElement>('counter-form')
const amount = byId<HTMLInputElement>('counter-amount')
const code = byId<HTMLInputElement>('counter-code')
const pay = byId<HTMLButtonElement>('counter-pay')
const cancel = byId<HTMLButtonElement>('counter-cancel')
const status = byId('counter-status')
const orderLine = byId('counter-order')

// How often the page asks for the stage; the backend's own queries to Alipay are every 5 s.
const STATUS_POLL_MS = 500

const STAGE_TEXT: Record<CounterView['stage'], string> = {
  paying: 'Charging…',
  'waiting-for-password': 'Waiting for the buyer to confirm with their password…',
  unknown: 'No clear answer from Alipay yet: checking…',
  cancelling: 'Cancelling the payment…',
  paid: 'Paid.',
  failed: 'Refused.',
  cancelled: 'Cancelled: nothing was charged.',
}

const FINAL = new Set<CounterView['stage']>(['paid', 'failed', 'cancelled'])
let current: string | undefined

function show(view: CounterView) {
  status.dataset['stage'] = view.stage
  const extra = view.stage === 'failed' ? ` ${view.subMsg ?? ''} (${view.subCode ?? ''})` : ''
  announce(
    status,
    `${STAGE_TEXT[view.stage]}${extra}`,
    view.stage === 'paid' ? 'success' : view.stage === 'failed' ? 'error' : 'info',
  )
  orderLine.hidden = false
  orderLine.textContent = `Order ${view.orderId}, ¥${view.amount}${view.tradeNo ? `, trade ${view.tradeNo}` : ''}`
  const done = FINAL.has(view.stage)
  cancel.hidden = done
  pay.disabled = !done
}

async function follow(orderId: string) {
  while (current === orderId) {
    const view = await api.counterStatus(orderId)
    show(view)
    if (FINAL.has(view.stage)) return
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS))
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  void (async () => {
    pay.disabled = true
    try {
      const view = await api.counterPay(amount.value.trim(), code.value.trim())
      current = view.orderId
      code.value = ''
      show(view)
      await follow(view.orderId)
    } catch (error) {
      pay.disabled = false
      announce(status, describeError(error).message, 'error')
    }
  })()
})

cancel.addEventListener('click', () => {
  if (!current) return
  void api.counterCancel(current).catch((error: unknown) => announce(status, describeError(error).message, 'error'))
})

void api
  .config()
  .then((config) => {
    byId('counter-codes').hidden = !config.sandbox
  })
  .catch(() => undefined)
code.focus()
