import type { CheckoutRequest } from '@alipay-payment-handler/protocol'
import type { HandlerResponse } from './events.js'

/**
 * One payment request the worker has seen, kept in IndexedDB under its `paymentRequestId`:
 * the worker can be stopped at any time, and a restarted worker must recognise it.
 */
export interface HandlerSession {
  paymentRequestId: string
  /** The URL identifier the worker answers with. */
  methodName: string
  /** What the checkout window needs. `methodData` is stored as received, valid or not. */
  request: CheckoutRequest
  /** `open` until a response was decided; `settled` after. */
  state: 'open' | 'settled'
  /** Set when the method data failed validation: such a request can never end paid. */
  invalid?: { field: string; reason: string }
  /** The signing server's session, once the window created it. */
  sessionId?: string
  /** The response decided for this request (also kept when Chromium could no longer take it). */
  response?: HandlerResponse
  createdAt: number
  updatedAt: number
}

/** The small storage interface the worker's logic needs. IndexedDB in the worker, a Map in tests. */
export interface SessionStore {
  get(paymentRequestId: string): Promise<HandlerSession | undefined>
  put(session: HandlerSession): Promise<void>
  delete(paymentRequestId: string): Promise<void>
  list(): Promise<HandlerSession[]>
}

/** A Map-backed SessionStore, for unit tests and as a stand-in where IndexedDB is missing. */
export function createMemorySessionStore(initial: readonly HandlerSession[] = []): SessionStore {
  const sessions = new Map<string, HandlerSession>()
  // structuredClone: IndexedDB hands out copies, so the fake must too, or tests pass by aliasing.
  for (const session of initial) sessions.set(session.paymentRequestId, structuredClone(session))
  return {
    async get(id) {
      const session = sessions.get(id)
      return session && structuredClone(session)
    },
    async put(session) {
      sessions.set(session.paymentRequestId, structuredClone(session))
    },
    async delete(id) {
      sessions.delete(id)
    },
    async list() {
      return [...sessions.values()].map((session) => structuredClone(session))
    },
  }
}

// A payment request event cannot outlive Chromium's limits by much (5 minutes in its source;
// tests saw 400 s). A day is far beyond any checkout and short enough to keep the store small.
const SETTLED_LIFETIME_MS = 24 * 3600_000
// Open sessions this old were orphaned by a stopped worker and will never settle.
const STALE_OPEN_MS = 3600_000

/** True when an open session is old enough that no live payment can still own it. */
export function isStale(session: HandlerSession, now: number): boolean {
  return session.state === 'open' && now - session.updatedAt > STALE_OPEN_MS
}

/** Deletes settled sessions older than a day and stale open ones; returns how many went. */
export async function pruneSessions(store: SessionStore, now: number): Promise<number> {
  let removed = 0
  for (const session of await store.list()) {
    const oldSettled = session.state === 'settled' && now - session.updatedAt > SETTLED_LIFETIME_MS
    if (oldSettled || isStale(session, now)) {
      await store.delete(session.paymentRequestId)
      removed++
    }
  }
  return removed
}

/** Open sessions that are not stale: the payments in flight. */
export async function inFlightSessions(store: SessionStore, now: number): Promise<HandlerSession[]> {
  return (await store.list()).filter((session) => session.state === 'open' && !isStale(session, now))
}
