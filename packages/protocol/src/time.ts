/** Beijing time is UTC+8 all year (no daylight saving), so a fixed offset is exact. */
const BEIJING_OFFSET_MS = 8 * 3600 * 1000
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** Formats an instant as the gateway writes times: `yyyy-MM-dd HH:mm:ss`, Beijing time. */
export function formatBeijingTime(date: Date): string {
  const d = new Date(date.getTime() + BEIJING_OFFSET_MS)
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  )
}

/** The same instant as `yyyyMMddHHmmss`, Beijing time (order ids, batch numbers). */
export function compactBeijingTime(date: Date): string {
  return formatBeijingTime(date).replace(/[- :]/g, '')
}

/** Parses a gateway timestamp (Beijing time); undefined when it is not a real date and time. */
export function parseBeijingTime(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  const utc = Date.UTC(y, mo - 1, d, h, mi, s)
  const date = new Date(utc - BEIJING_OFFSET_MS)
  // Reject 2024-02-30 and friends: they round-trip to another day.
  return formatBeijingTime(date) === text ? date : undefined
}
