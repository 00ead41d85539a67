import { inFlightSessions, type SessionStore } from './session-store.js'

/** The message workbox-window's `messageSkipWaiting()` posts to a waiting worker. */
export function isSkipWaitingMessage(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'SKIP_WAITING'
}

/**
 * Whether a new worker may take over now. Not while a payment is in flight: the old worker holds
 * its `respondWith`, and a new one could not answer it. IndexedDB is shared by both versions, so
 * the waiting worker can see the old one's sessions. A first install (`replacing` false) has no
 * one to wait for and answers without opening IndexedDB: the just-in-time install's `show()`
 * waits for install and activate before its `paymentrequest`.
 */
export async function mayActivate(store: SessionStore, now: number, replacing: boolean): Promise<boolean> {
  if (!replacing) return true
  return (await inFlightSessions(store, now)).length === 0
}
