import { setMaxListeners } from 'node:events'

/** Width of the slot whose calls share one signal. */
const SLOT_MS = 50

const current = new Map<number, { slot: number; signal: AbortSignal }>()

/**
 * An AbortSignal that fires between `ms` and `ms + 50` from now. Calls in the same 50 ms slot
 * share one signal: in a notify storm, making a timer-backed signal per request cost more CPU
 * than the request's own bookkeeping (a relay profile put it at 5 %).
 */
export function timeoutSignal(ms: number): AbortSignal {
  const now = Date.now()
  const slot = Math.floor(now / SLOT_MS)
  const entry = current.get(ms)
  if (entry?.slot === slot) return entry.signal
  // Fires at the end of the slot plus `ms`: no call in the slot waits less than `ms`.
  const signal = AbortSignal.timeout(ms + (slot + 1) * SLOT_MS - now)
  // Every request of the slot listens to it; that is expected, not a leak.
  setMaxListeners(0, signal)
  current.set(ms, { slot, signal })
  return signal
}
