import { createSessionsApi } from '../common/sessions-api.js'
import { methodUrl } from '../common/paths.js'
import { handleAbortPayment } from './abort-payment.js'
import { canMakePayment } from './can-make-payment.js'
import { handleClientMessage } from './client-message.js'
import { createIdbSessionStore } from './idb-session-store.js'
import { handlePaymentRequest } from './payment-request.js'
import { createPendingResponses } from './pending-responses.js'
import { isSkipWaitingMessage, mayActivate } from './update-policy.js'

declare let self: ServiceWorkerGlobalScope

// The worker's dependencies. None of them holds payment state except `pending`, the live
// respondWith resolvers, which cannot outlive this instance anyway (see pending-responses.ts).
const origin = self.location.origin
const methodName = methodUrl(origin)
const store = createIdbSessionStore()
const pending = createPendingResponses()
// Same origin as the worker: the signing server serves both (docs/decisions/0002-sessions-api.md).
const api = createSessionsApi({ baseUrl: origin, timeoutMs: 10_000 })
const now = () => Date.now()

async function activateIfIdle(): Promise<void> {
  const replacing = self.registration.active !== null
  if (await mayActivate(store, now(), replacing).catch(() => true)) await self.skipWaiting()
}

self.addEventListener('install', (event) => event.waitUntil(activateIfIdle()))
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

self.addEventListener('canmakepayment', (event) => event.respondWith(canMakePayment(event, methodName)))

self.addEventListener('paymentrequest', (event) => {
  // respondWith must be called during dispatch; the promise carries the whole checkout.
  event.respondWith(handlePaymentRequest(event, { store, pending, origin, methodName, now }))
})

self.addEventListener('abortpayment', (event) => {
  const { answer, background } = handleAbortPayment({ store, pending, api, methodName, now })
  event.respondWith(answer)
  event.waitUntil(background)
})

self.addEventListener('message', (event) => {
  if (isSkipWaitingMessage(event.data)) {
    event.waitUntil(activateIfIdle())
    return
  }
  event.waitUntil(handleClientMessage(event, { store, pending, origin, api, now }))
})
