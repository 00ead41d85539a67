import { api, type OrderView, type ReconciliationView } from './api.js'
import { announce, byId, formatBeijingTime, formatPrice, formatTime, h } from './dom.js'
import { describeError, messageFor, STATUS_LABELS } from './messages.js'

/** The merchant's page refreshes itself, so notifies and QR payments show up without a reload. */
const REFRESH_MS = 3_000

const body = byId('orders-body')
const table = byId('orders-table')
const empty = byId('orders-empty')
const status = byId('orders-status')
const serverStatus = byId('server-status')
const loginForm = byId<HTMLFormElement>('operator-login')
const tokenInput = byId<HTMLInputElement>('operator-token')
let acting = false

function notifyList(order: OrderView): HTMLElement | string {
  if (order.notifies.length === 0) return 'none yet'
  return h(
    'details',
    {},
    h('summary', {}, `${order.notifies.length} received`),
    h(
      'ul',
      { class: 'notifies' },
      ...order.notifies.map((n) =>
        h(
          'li',
          {},
          `${formatTime(n.receivedAt)} · ${n.notifyType}${n.tradeStatus ? ` · ${n.tradeStatus}` : ''} · `,
          h('span', { class: n.verified ? 'ok' : 'bad' }, n.verified ? 'signature verified' : 'rejected'),
        ),
      ),
    ),
  )
}

function actions(order: OrderView): HTMLElement {
  const cell = h('div', { class: 'actions' })
  const button = (action: string, label: string) =>
    h(
      'button',
      {
        type: 'button',
        'data-action': action,
        'data-order': order.orderId,
        'aria-label': `${label} order ${order.orderId}`,
      },
      label,
    )
  if (order.status === 'wait') cell.append(button('check', 'Check'), button('cancel', 'Cancel'))
  if (order.status === 'success') cell.append(button('refund', 'Refund'))
  return cell
}

function row(order: OrderView): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-order': order.orderId },
    h(
      'th',
      { scope: 'row' },
      h('code', {}, order.orderId),
      h('br'),
      h('time', { class: 'created', datetime: order.createdAt }, formatTime(order.createdAt)),
      h('br'),
      // The time the sandbox inspector and Alipay's records show for the same order.
      h('small', { class: 'beijing' }, formatBeijingTime(order.createdAt)),
    ),
    h('td', {}, order.subject),
    h(
      'td',
      { class: 'amount' },
      formatPrice(order.amount),
      order.refundedAmount ? h('small', {}, ` (refunded ${formatPrice(order.refundedAmount)})`) : undefined,
    ),
    h(
      'td',
      {},
      h('span', { class: 'badge', 'data-state': order.status }, STATUS_LABELS[order.status] ?? order.status),
      order.gatewayStatus ? h('small', { class: 'gateway-status' }, order.gatewayStatus) : undefined,
    ),
    h('td', {}, notifyList(order)),
    h('td', {}, actions(order)),
  )
}

async function load(): Promise<void> {
  try {
    const orders = await api.orders()
    serverStatus.hidden = true
    // Keep open <details> and focus across refreshes: only rebuild rows whose content changed.
    const open = new Set(
      [...body.querySelectorAll('tr')]
        .filter((tr) => tr.querySelector('details[open]'))
        .map((tr) => tr.dataset['order']),
    )
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset['action'] : undefined
    const focusedOrder =
      document.activeElement instanceof HTMLElement ? document.activeElement.dataset['order'] : undefined
    body.replaceChildren(
      ...orders.map((order) => {
        const tr = row(order)
        if (open.has(order.orderId)) tr.querySelector('details')?.setAttribute('open', '')
        return tr
      }),
    )
    if (focused && focusedOrder) {
      body.querySelector<HTMLElement>(`[data-action="${focused}"][data-order="${CSS.escape(focusedOrder)}"]`)?.focus()
    }
    table.hidden = orders.length === 0
    empty.hidden = orders.length > 0
  } catch (error) {
    const { code, message } = describeError(error)
    // Not logged in (or the shop restarted with a new token): ask for the token.
    loginForm.hidden = code !== 'OPERATOR_REQUIRED'
    serverStatus.hidden = false
    serverStatus.textContent = message
  }
}

/** Logs in with a token; answers whether the shop took it. */
async function logIn(token: string): Promise<boolean> {
  try {
    await api.operatorLogin(token)
    loginForm.hidden = true
    serverStatus.hidden = true
    return true
  } catch (error) {
    serverStatus.hidden = false
    serverStatus.textContent = describeError(error).message
    loginForm.hidden = false
    return false
  }
}

loginForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void logIn(tokenInput.value.trim()).then(async (ok) => {
    if (!ok) return
    tokenInput.value = ''
    await load()
    api.reconciliation().then(showReport, () => undefined)
  })
})

body.addEventListener('click', async (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]')
  const action = button?.dataset['action']
  const id = button?.dataset['order']
  if (!button || !id || acting) return
  if (action === 'refund' && !confirm(`Refund order ${id} in full?`)) return
  acting = true
  button.disabled = true
  announce(status, `${button.textContent ?? 'Working'} order ${id}…`)
  try {
    const order =
      action === 'refund' ? await api.refund(id) : action === 'cancel' ? await api.cancel(id) : await api.check(id)
    announce(status, `Order ${id}: ${STATUS_LABELS[order.status] ?? order.status}.`, 'success')
  } catch (error) {
    const { code, message } = describeError(error)
    announce(status, code === 'NETWORK' ? messageFor('NETWORK') : `Order ${id}: ${message}`, 'error')
  } finally {
    acting = false
    await load()
  }
})

const reconcileButton = byId<HTMLButtonElement>('reconcile')
const reconciliationStatus = byId('reconciliation-status')
const reconciliationReport = byId('reconciliation-report')

/** One list of the report, or nothing when it is empty. */
function reportList(title: string, items: string[]): HTMLElement[] {
  return items.length === 0 ? [] : [h('h3', {}, title), h('ul', {}, ...items.map((text) => h('li', {}, text)))]
}

function showReport(report: ReconciliationView | null): void {
  if (!report) {
    reconciliationReport.replaceChildren(h('p', {}, 'No reconciliation has run yet.'))
    return
  }
  reconciliationReport.replaceChildren(
    h(
      'p',
      { 'data-run': String(report.runId) },
      `Last run ${formatTime(report.finishedAt)} (${report.trigger}): ${report.checked} checked, ` +
        `${report.repaired.length} repaired, ${report.needsHuman.length} for a person, ${report.errors.length} failed.`,
    ),
    ...reportList(
      'Repaired',
      report.repaired.map((r) => `${r.orderId}: ${r.action} (${r.from} → ${r.to})`),
    ),
    ...reportList(
      'Needs a person',
      report.needsHuman.map((n) => `${n.orderId}: ${n.reason}. ${n.message}`),
    ),
    ...reportList(
      'Could not check',
      report.errors.map((e) => `${e.orderId}: ${e.code}. ${e.message}`),
    ),
  )
}

reconcileButton.addEventListener('click', async () => {
  reconcileButton.disabled = true
  announce(reconciliationStatus, 'Reconciling with Alipay…')
  try {
    const report = await api.reconcile()
    showReport(report)
    announce(reconciliationStatus, `Reconciled: ${report.repaired.length} repaired.`, 'success')
    await load()
  } catch (error) {
    announce(reconciliationStatus, describeError(error).message, 'error')
  } finally {
    reconcileButton.disabled = false
  }
})

/** The start banner's link carries the token in the fragment, which never reaches a server log. */
async function logInFromLink(): Promise<void> {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get('operator')
  if (!fromLink) return
  history.replaceState(null, '', location.pathname + location.search)
  await logIn(fromLink)
}

byId('time-zone').textContent = Intl.DateTimeFormat().resolvedOptions().timeZone

async function start(): Promise<void> {
  await logInFromLink()
  api.reconciliation().then(showReport, () => undefined)
  await load()
}

// The link opened on this very page changes only the fragment: no reload, so listen for it.
window.addEventListener('hashchange', () => void start())
void start()
setInterval(() => {
  if (!acting && document.visibilityState === 'visible') void load()
}, REFRESH_MS)
