import type { CancelTimer, Clock } from './clock.js'

/** A unit of timed work: does what is due, and says when it next needs to run. */
export interface TimedWork {
  runDue(): Promise<void> | void
  nextDue(): number | undefined
}

/**
 * One timer for all of the sandbox's timed work (notify retries, it_b_pay expiry, end of the
 * refund period). Runs are never concurrent; a wake during a run triggers one more run.
 */
export class Scheduler {
  #timer: CancelTimer | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = true

  constructor(
    private readonly clock: Clock,
    private readonly work: readonly TimedWork[],
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.#stopped = false
    this.wake()
  }

  /** Runs whatever is due now, then re-arms the timer. */
  wake(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = this.#run().finally(() => {
      this.#running = undefined
      if (this.#again) {
        this.#again = false
        this.wake()
      }
    })
  }

  /** Resolves once no run is in progress (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#timer?.()
    await this.idle()
  }

  async #run(): Promise<void> {
    this.#timer?.()
    this.#timer = undefined
    for (const work of this.work) {
      try {
        await work.runDue()
      } catch (error) {
        this.onError(error)
      }
    }
    if (this.#stopped) return
    const dues = this.work.map((w) => w.nextDue()).filter((t): t is number => t !== undefined)
    if (dues.length === 0) return
    const delay = Math.max(0, Math.min(...dues) - this.clock.now())
    // A floor keeps a due-but-failing item from spinning the CPU.
    this.#timer = this.clock.setTimer(() => this.wake(), Math.max(delay, 5))
  }
}
