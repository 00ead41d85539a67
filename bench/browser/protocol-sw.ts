// The bench's service worker: runs bench/browser/protocol-loop.ts when the page asks, answers on
// the port it sent. Typed without the WebWorker lib (bench/ is type-checked as Node code).
import { timeProtocol } from './protocol-loop.js'

interface BenchWorkerScope {
  addEventListener(
    type: 'install' | 'activate',
    listener: (event: { waitUntil(p: Promise<unknown>): void }) => void,
  ): void
  addEventListener(
    type: 'message',
    listener: (event: {
      data: unknown
      ports: readonly { postMessage(message: unknown): void }[]
      waitUntil(p: Promise<unknown>): void
    }) => void,
  ): void
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void> }
}

const scope = globalThis as unknown as BenchWorkerScope

scope.addEventListener('install', (event) => event.waitUntil(scope.skipWaiting()))
scope.addEventListener('activate', (event) => event.waitUntil(scope.clients.claim()))
scope.addEventListener('message', (event) => {
  const port = event.ports[0]
  if (!port) return
  event.waitUntil(
    timeProtocol(Number(event.data)).then(
      (timings) => port.postMessage({ timings }),
      (error: unknown) => port.postMessage({ error: String(error) }),
    ),
  )
})
