/** The states a test or a screenshot can wait for: `document.body.dataset.state`. */
export type ViewState =
  | 'loading'
  | 'review'
  | 'redirecting'
  | 'problem'
  | 'expired'
  | 'cancelled'
  | 'confirming'
  | 'paid'
  | 'orphaned'
  | 'aborted'

/** A button; `id` is stable (#pay, #cancel, #retry, #back, #close) for tests and assistive tech. */
export interface Action {
  id: string
  label: string
  primary?: boolean
  disabled?: boolean
  onClick: () => void
}

/** What is being paid, to whom. Every value is text from the request, rendered as text only. */
export interface Summary {
  merchantOrigin: string
  subject?: string | undefined
  amount: string
  orderId?: string | undefined
}

export interface View {
  state: ViewState
  title: string
  message?: string
  summary?: Summary | undefined
  actions?: Action[]
  /** The problem code, for tests (`data-problem`); never shown. */
  problem?: string
  /** Shows a progress indicator next to the title. */
  busy?: boolean
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  // Text nodes only: subject and origin come from the merchant and must never become markup.
  node.append(...children)
  return node
}

function summaryCard(summary: Summary): HTMLElement {
  const rows: HTMLElement[] = [
    element('p', { class: 'label' }, 'Paying'),
    element('p', { class: 'merchant', id: 'merchant' }, summary.merchantOrigin),
  ]
  if (summary.subject) rows.push(element('p', { class: 'subject', id: 'subject' }, summary.subject))
  rows.push(element('p', { class: 'amount', id: 'amount' }, summary.amount))
  if (summary.orderId) rows.push(element('p', { class: 'order' }, `Order ${summary.orderId}`))
  return element('section', { class: 'summary', 'aria-label': 'Payment summary' }, ...rows)
}

/** Replaces the page content with one view. */
export function render(view: View): void {
  const root = document.getElementById('app') ?? document.body
  const parts: HTMLElement[] = [
    element('header', { class: 'brand' }, element('span', { class: 'logo' }, '支'), 'Alipay'),
  ]
  if (view.summary) parts.push(summaryCard(view.summary))
  const heading = element('h1', { id: 'title', tabindex: '-1' }, view.title)
  if (view.busy) heading.prepend(element('span', { class: 'spinner', 'aria-hidden': 'true' }))
  parts.push(heading)
  if (view.message) parts.push(element('p', { class: 'message', id: 'message' }, view.message))
  if (view.actions?.length) {
    const buttons = view.actions.map((action) => {
      const button = element(
        'button',
        { id: action.id, type: 'button', class: action.primary ? 'primary' : 'secondary' },
        action.label,
      )
      button.disabled = action.disabled ?? false
      button.addEventListener('click', () => {
        // One click per action: a double click must not pay or cancel twice.
        for (const other of root.querySelectorAll('button')) other.disabled = true
        action.onClick()
      })
      return button
    })
    parts.push(element('div', { class: 'actions' }, ...buttons))
  }
  const changed = document.body.dataset['state'] !== view.state || document.body.dataset['problem'] !== view.problem
  root.replaceChildren(...parts)
  announce(view, changed)
  document.body.dataset['state'] = view.state
  if (view.problem) document.body.dataset['problem'] = view.problem
  else delete document.body.dataset['problem']
  document.title = view.title === 'Checkout' ? 'Checkout' : `Checkout – ${view.title}`
}

/**
 * Only the status line is a live region: a screen reader hears each step's title once, not the
 * whole window again. Focus follows the step: to its first enabled button, so Enter does the
 * obvious next thing, or to the title while the window works, so focus is never lost with the
 * replaced content.
 */
function announce(view: View, changed: boolean): void {
  const status = document.getElementById('status')
  if (status && changed) status.textContent = view.message ? `${view.title} ${view.message}` : view.title
  const target =
    document.querySelector<HTMLButtonElement>('#app button.primary:not(:disabled)') ??
    document.querySelector<HTMLButtonElement>('#app button:not(:disabled)') ??
    document.getElementById('title')
  target?.focus({ preventScroll: true })
}
