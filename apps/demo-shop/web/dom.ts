/** Tiny DOM helpers, so the pages need no framework. */

/** The element with this id, or a clear error naming the page's missing markup. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (!element) throw new Error(`[demo-shop] The page has no #${id} element.`)
  return element as T
}

/** Creates an element with text and attributes; children are appended in order. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    element.setAttribute(name, value === true ? '' : value)
  }
  for (const child of children) {
    if (child === undefined || child === false) continue
    element.append(child)
  }
  return element
}

/** "¥ 128.00" — amounts stay strings end to end; only the symbol is added. */
export function formatPrice(amount: string): string {
  return `¥${amount}`
}

/** Local date and time for a timestamp the server sent (ISO or "yyyy-MM-dd HH:mm:ss"). */
export function formatTime(value: string | undefined): string {
  if (!value) return '—'
  const date = new Date(value.includes('T') ? value : value.replace(' ', 'T') + '+08:00')
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString()
}

/** Shows a message in a live region; `tone` picks the colour and role. */
export function announce(region: HTMLElement, message: string, tone: 'info' | 'success' | 'error' = 'info'): void {
  region.dataset['tone'] = tone
  region.textContent = message
}
