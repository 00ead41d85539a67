import type { Logger } from './logger.js'

/** A background job that runs every `intervalMs`, never overlapping itself. */
export interface Loop {
  /** Runs the job soon (e.g. right after new work was committed). */
  kick(): void
  /** Stops the loop and waits for a running round to finish. */
  stop(): Promise<void>
}

/** Starts `job` now and then every `intervalMs`; errors are logged and the loop goes on. */
export function startLoop(name: string, job: () => Promise<unknown>, intervalMs: number, logger: Logger): Loop {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  const schedule = (ms: number) => {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(run, ms)
    // Background loops must not keep a process alive on their own.
    timer.unref?.()
  }
  function run() {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = job()
      .then(
        () => undefined,
        (error: unknown) => logger.error(`${name}.failed`, { error }),
      )
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          schedule(0)
        } else schedule(intervalMs)
      })
  }
  schedule(0)
  return {
    kick: () => schedule(0),
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
