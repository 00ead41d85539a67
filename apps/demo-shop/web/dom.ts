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

/** The date of a timestamp the server sent (ISO, or Alipay's "yyyy-MM-dd HH:mm:ss" in Beijing time). */
function parseTime(value: string): Date {
  return new Date(value.includes('T') ? value : value.replace(' ', 'T') + '+08:00')
}

/**
 * Date and time in the browser's time zone, with the zone named ("7 Dec 2026, 09:12:00 CET"):
 * Alipay and the sandbox speak Beijing time, so an unlabelled time would be ambiguous.
 */
export function formatTime(value: string | undefined, timeZone?: string): string {
  if (!value) return '—'
  const date = parseTime(value)
  if (Number.isNaN(date.getTime())) return value
  // Named fields: dateStyle and timeStyle cannot be combined with timeZoneName.
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
    timeZone,
  })
}

/** The same moment in Beijing time, as Alipay's pages and the sandbox show it. */
export function formatBeijingTime(value: string | undefined): string {
  if (!value) return '—'
  const date = parseTime(value)
  if (Number.isNaN(date.getTime())) return value
  const text = date.toLocaleString('en-CA', { timeZone: 'Asia/Shanghai', hourCycle: 'h23' }).replace(',', '')
  return `${text} Beijing time`
}

/** Shows a message in a live region; `tone` picks the colour and role. */
export function announce(region: HTMLElement, message: string, tone: 'info' | 'success' | 'error' = 'info'): void {
  region.dataset['tone'] = tone
  region.textContent = message
}
