import { describe, expect, test } from 'vitest'
import { storedSession } from './fakes.js'
import { createMemorySessionStore, inFlightSessions, pruneSessions, type SessionStore } from './session-store.js'
import { isSkipWaitingMessage, mayActivate } from './update-policy.js'

describe('session store', () => {
  test('the Map store hands out copies, like IndexedDB', async () => {
    const store = createMemorySessionStore()
    const session = storedSession()
    await store.put(session)
    session.state = 'settled'
    const read = await store.get('req-1')
    expect(read?.state).toBe('open')
    read!.state = 'settled'
    expect((await store.get('req-1'))?.state).toBe('open')
  })

  test('prunes day-old settled sessions and hour-old open ones, keeps the rest', async () => {
    const hour = 3600_000
    const now = 30 * hour
    const store = createMemorySessionStore([
      storedSession({ paymentRequestId: 'old-settled', state: 'settled', updatedAt: now - 25 * hour }),
      storedSession({ paymentRequestId: 'new-settled', state: 'settled', updatedAt: now - hour }),
      storedSession({ paymentRequestId: 'stale-open', updatedAt: now - 2 * hour }),
      storedSession({ paymentRequestId: 'live', updatedAt: now - 60_000 }),
    ])
    expect(await pruneSessions(store, now)).toBe(2)
    expect((await store.list()).map((s) => s.paymentRequestId).sort()).toEqual(['live', 'new-settled'])
    expect((await inFlightSessions(store, now)).map((s) => s.paymentRequestId)).toEqual(['live'])
  })
})

describe('update policy', () => {
  test('a new worker waits while a payment is in flight', async () => {
    expect(await mayActivate(createMemorySessionStore([storedSession({ updatedAt: 1_000 })]), 2_000, true)).toBe(false)
  })

  test('a first install replaces no worker and activates without reading the store', async () => {
    const unreadable: SessionStore = {
      ...createMemorySessionStore(),
      list: () => Promise.reject(new Error('the store was read')),
    }
    expect(await mayActivate(unreadable, 2_000, false)).toBe(true)
    await expect(mayActivate(unreadable, 2_000, true)).rejects.toThrow('the store was read')
  })

  test('a new worker may take over when every payment is settled or stale', async () => {
    const store = createMemorySessionStore([
      storedSession({ paymentRequestId: 'a', state: 'settled' }),
      storedSession({ paymentRequestId: 'b', updatedAt: 0 }),
    ])
    expect(await mayActivate(store, 2 * 3600_000, true)).toBe(true)
  })

  test('recognises workbox-window skip-waiting messages only', () => {
    expect(isSkipWaitingMessage({ type: 'SKIP_WAITING' })).toBe(true)
    expect(isSkipWaitingMessage({ type: 'KEEPALIVE' })).toBe(false)
    expect(isSkipWaitingMessage('SKIP_WAITING')).toBe(false)
  })
})
