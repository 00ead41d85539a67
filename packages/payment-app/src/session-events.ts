import { EventEmitter } from 'node:events'

/**
 * In-process change notifications for long polls: writers call `changed(id)` after a commit,
 * readers `waitForChange(id, ms)`. A missed event only costs a poll, never a result, because
 * readers always re-read the store afterwards.
 */
export class SessionEvents {
  readonly #emitter = new EventEmitter()

  constructor() {
    // Every waiting long poll is a listener; there may be many at once.
    this.#emitter.setMaxListeners(0)
  }

  /** Wakes everyone waiting on session `id`. */
  changed(id: string): void {
    this.#emitter.emit(id)
  }

  /** Resolves on the next change of session `id`, after `timeoutMs`, or when `signal` aborts. */
  waitForChange(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#emitter.off(id, done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.#emitter.on(id, done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }
}
