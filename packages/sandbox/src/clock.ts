/** Cancels a timer. */
export type CancelTimer = () => void

/**
 * The sandbox's sense of time. Every expiry and retry reads `now()` and waits with
 * `setTimer`, so tests can compress or jump time without real waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `fn` once after `ms` milliseconds of this clock's time. */
  setTimer(fn: () => void, ms: number): CancelTimer
}

// setTimeout overflows above 2^31-1 ms (about 24.8 days) and fires at once; wake up earlier instead.
const MAX_TIMER_MS = 2_147_483_647

/**
 * The real clock plus an offset that `advance()` moves forward. Timers wait in real time;
 * after an advance, owners re-check their deadlines (the scheduler listens via `onAdvance`).
 */
export class SandboxClock implements Clock {
  #offsetMs = 0
  readonly #listeners = new Set<() => void>()

  constructor(private readonly base: () => number = Date.now) {}

  now(): number {
    return this.base() + this.#offsetMs
  }

  setTimer(fn: () => void, ms: number): CancelTimer {
    const handle = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS))
    handle.unref?.()
    return () => clearTimeout(handle)
  }

  /** Jumps the clock forward and lets listeners re-check what became due. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('the clock only moves forward')
    this.#offsetMs += ms
    for (const listener of this.#listeners) listener()
  }

  /** Registers a listener called after every advance; returns its remover. */
  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
