import { describe, expect, test } from 'vitest'
import { isCancelledDetails } from '@alipay-payment-handler/protocol'
import { METHOD, ORIGIN, fakePaymentRequestEvent, methodData, storedSession } from './fakes.js'
import { handlePaymentRequest, type PaymentRequestDeps } from './payment-request.js'
import { createPendingResponses } from './pending-responses.js'
import { createMemorySessionStore, type SessionStore } from './session-store.js'

function deps(overrides: Partial<PaymentRequestDeps> = {}): PaymentRequestDeps & { logs: string[] } {
  const logs: string[] = []
  return {
    store: createMemorySessionStore(),
    pending: createPendingResponses(),
    origin: ORIGIN,
    methodName: METHOD,
    now: () => 5_000,
    log: (message) => void logs.push(message),
    logs,
    ...overrides,
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('handlePaymentRequest', () => {
  test('stores an open session keyed by paymentRequestId with the merchant origin normalized', async () => {
    const d = deps()
    void handlePaymentRequest(fakePaymentRequestEvent({ id: 'order-7' }), d)
    await flush()
    const session = await d.store.get('order-7')
    expect(session).toMatchObject({ paymentRequestId: 'order-7', state: 'open', methodName: METHOD, createdAt: 5_000 })
    expect(session?.request.merchantOrigin).toBe('http://localhost:4100')
    expect(session?.request.total).toEqual({ currency: 'CNY', value: '0.01' })
    expect(session?.request.methodData.out_trade_no).toBe('D20250101120000123456')
    expect(session?.invalid).toBeUndefined()
  })

  test('opens the checkout page for this request on the payment app origin', async () => {
    const event = fakePaymentRequestEvent({ id: 'a b' })
    void handlePaymentRequest(event, deps())
    await flush()
    expect(event.opened).toEqual([`${ORIGIN}/pay/checkout.html?prid=a+b`])
  })

  test('opens the window without waiting for IndexedDB, having started the session write first', async () => {
    const calls: string[] = []
    const memory = createMemorySessionStore()
    const slowStore: SessionStore = {
      ...memory,
      // A write that never finishes: the window must open anyway.
      put: (session) => (calls.push(`put ${session.paymentRequestId}`), new Promise(() => undefined)),
      list: () => (calls.push('list'), memory.list()),
    }
    const event = fakePaymentRequestEvent({
      openWindow: (url) => (calls.push(`open ${url}`), Promise.resolve({ id: 'window-1' })),
    })
    void handlePaymentRequest(event, deps({ store: slowStore }))
    await flush()
    expect(calls).toEqual([`put req-1`, `open ${ORIGIN}/pay/checkout.html?prid=req-1`])
  })

  test('prunes old sessions after the window is open', async () => {
    const d = deps()
    await d.store.put(storedSession({ paymentRequestId: 'old', state: 'settled', updatedAt: -10 * 86_400_000 }))
    const event = fakePaymentRequestEvent()
    void handlePaymentRequest(event, d)
    await flush()
    expect(event.opened).toHaveLength(1)
    expect(await d.store.get('old')).toBeUndefined()
  })

  test('resolves with what the window reports, once settled', async () => {
    const d = deps()
    const response = handlePaymentRequest(fakePaymentRequestEvent(), d)
    await flush()
    expect(d.pending.settle('req-1', { methodName: METHOD, details: { success: 'true' } })).toBe(true)
    await expect(response).resolves.toEqual({ methodName: METHOD, details: { success: 'true' } })
  })

  test('can be settled before openWindow resolves', async () => {
    let open!: (client: unknown) => void
    const d = deps()
    const event = fakePaymentRequestEvent({ openWindow: () => new Promise((resolve) => (open = resolve)) })
    const response = handlePaymentRequest(event, d)
    await flush()
    d.pending.settle('req-1', { methodName: METHOD, details: { success: 'true' } })
    open({})
    await expect(response).resolves.toMatchObject({ details: { success: 'true' } })
  })

  test('picks the entry for our identifier among several', async () => {
    const d = deps()
    const methods = [
      { supportedMethods: 'https://other.example/pay', data: { other: 'x' } },
      { supportedMethods: METHOD, data: methodData({ subject: 'Ours' }) },
    ]
    void handlePaymentRequest(fakePaymentRequestEvent({ methods }), d)
    await flush()
    expect((await d.store.get('req-1'))?.request.methodData.subject).toBe('Ours')
  })

  test('records invalid method data, still opens the window so the shopper sees why', async () => {
    const d = deps()
    const event = fakePaymentRequestEvent({ data: methodData({ total_fee: '1.234' }) })
    void handlePaymentRequest(event, d)
    await flush()
    expect((await d.store.get('req-1'))?.invalid).toEqual({
      field: 'total_fee',
      reason: expect.stringContaining('decimal'),
    })
    expect(event.opened).toHaveLength(1)
    expect(d.logs.join()).toContain('[alipay-handler]')
  })

  test('resolves a clear failure, never a rejection, when openWindow gives null', async () => {
    const d = deps()
    const response = await handlePaymentRequest(fakePaymentRequestEvent({ openWindow: async () => null }), d)
    expect(isCancelledDetails(response.details)).toBe(true)
    expect(response).toMatchObject({ methodName: METHOD, details: { reason: 'failed', code: 'WINDOW_OPEN_FAILED' } })
    expect((await d.store.get('req-1'))?.state).toBe('settled')
  })

  test('resolves a clear failure when openWindow throws', async () => {
    const event = fakePaymentRequestEvent({ openWindow: () => Promise.reject(new TypeError('not allowed')) })
    const response = await handlePaymentRequest(event, deps())
    expect(response.details).toMatchObject({ cancelled: 'true', code: 'WINDOW_OPEN_FAILED' })
  })

  test('still opens the checkout when IndexedDB fails', async () => {
    const broken: SessionStore = {
      get: () => Promise.reject(new Error('quota')),
      put: () => Promise.reject(new Error('quota')),
      delete: () => Promise.reject(new Error('quota')),
      list: () => Promise.reject(new Error('quota')),
    }
    const d = deps({ store: broken })
    const event = fakePaymentRequestEvent()
    const response = handlePaymentRequest(event, d)
    await flush()
    expect(event.opened).toHaveLength(1)
    expect(d.logs.some((line) => line.includes('IndexedDB'))).toBe(true)
    d.pending.settle('req-1', { methodName: METHOD, details: { success: 'true' } })
    await expect(response).resolves.toMatchObject({ details: { success: 'true' } })
  })

  test('prunes day-old settled sessions on the way', async () => {
    const old = storedSession({ paymentRequestId: 'old', state: 'settled', updatedAt: 0 })
    const d = deps({ store: createMemorySessionStore([old]), now: () => 25 * 3600_000 })
    void handlePaymentRequest(fakePaymentRequestEvent(), d)
    await flush()
    expect(await d.store.get('old')).toBeUndefined()
    expect(await d.store.get('req-1')).toBeDefined()
  })
})
