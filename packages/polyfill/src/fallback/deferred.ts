/** A promise with its resolve and reject functions, for algorithms that settle it later. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(reason: unknown): void
}

/** Makes a Deferred. (Promise.withResolvers is too new for the browsers the fallback serves.) */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** "Queue a task": the spec settles most promises from a task, after the current one ends. */
export function queueTask(steps: () => void): void {
  setTimeout(steps, 0)
}
