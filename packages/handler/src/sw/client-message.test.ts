import { describe, expect, test } from 'vitest'
import type { AlipayPaymentResponse } from '@alipay-payment-handler/protocol'
import { ABORT_REASONS, handleClientMessage, type ClientMessageDeps } from './client-message.js'
import type { HandlerResponse } from './events.js'
import type { SessionState } from '../common/sessions-api.js'
import { METHOD, ORIGIN, fakeApi, fakeMessage, storedSession } from './fakes.js'
import { createPendingResponses } from './pending-responses.js'
import { createMemorySessionStore, type HandlerSession } from './session-store.js'

/** What the server verified: the gateway-signed return, copied verbatim, plus success. */
const verified = {
  success: 'true',
  is_success: 'T',
  notify_id: 'RqPnCoPT3K9%2Fvwbh3Ih',
  notify_time: '2025-01-01 12:00:05',
  notify_type: 'trade_status_sync',
  out_trade_no: 'D20250101120000123456',
  trade_no: '2025010121001004330000000001',
  trade_status: 'TRADE_SUCCESS',
  total_fee: '0.01',
  sign_type: 'MD5',
  sign: 'f1e2d3c4b5a6978800112233445566aa',
} as AlipayPaymentResponse

function setup(session: HandlerSession | null = storedSession(), api = fakeApi().api) {
  const store = createMemorySessionStore(session ? [session] : [])
  const pending = createPendingResponses()
  const logs: string[] = []
  const deps: ClientMessageDeps = {
    store,
    pending,
    origin: ORIGIN,
    api,
    now: () => 9_000,
    log: (m) => void logs.push(m),
  }
  return { store, pending, deps, logs }
}

const done = (outcome: unknown, paymentRequestId = 'req-1') => ({
  type: 'CHECKOUT_DONE',
  payload: { paymentRequestId, outcome },
})

describe('handleClientMessage', () => {
  test('ignores messages from other origins', async () => {
    const { deps, store } = setup()
    const message = fakeMessage(
      { type: 'GET_REQUEST', payload: { paymentRequestId: 'req-1' } },
      { origin: 'http://evil.example' },
    )
    await handleClientMessage(message, deps)
    expect(message.replies).toEqual([])
    await handleClientMessage(
      fakeMessage(done({ kind: 'cancelled', reason: 'buyer' }), { origin: 'http://localhost:4100' }),
      deps,
    )
    expect((await store.get('req-1'))?.state).toBe('open')
  })

  test('ignores messages that are not part of the protocol', async () => {
    const { deps } = setup()
    const message = fakeMessage({ type: 'HELLO', payload: {} })
    await handleClientMessage(message, deps)
    expect(message.replies).toEqual([])
  })

  test('answers GET_REQUEST with the stored request on the reply port', async () => {
    const { deps } = setup()
    const message = fakeMessage({ type: 'GET_REQUEST', payload: { paymentRequestId: 'req-1' } })
    await handleClientMessage(message, deps)
    expect(message.replies).toEqual([{ type: 'REQUEST', payload: storedSession().request }])
  })

  test('answers on the source client when the page sent no port', async () => {
    const { deps } = setup()
    const message = fakeMessage({ type: 'GET_REQUEST', payload: { paymentRequestId: 'nope' } }, { withPort: false })
    await handleClientMessage(message, deps)
    expect(message.sourceReplies).toEqual([{ type: 'ABORT', payload: { reason: ABORT_REASONS.unknown } }])
  })

  test('tells the window to stop when the request is already settled', async () => {
    const { deps } = setup(storedSession({ state: 'settled' }))
    const message = fakeMessage({ type: 'GET_REQUEST', payload: { paymentRequestId: 'req-1' } })
    await handleClientMessage(message, deps)
    expect(message.replies).toEqual([{ type: 'ABORT', payload: { reason: ABORT_REASONS.settled } }])
  })

  test('serves the request to a window after a worker restart: the buyer may still pay', async () => {
    const { deps, pending } = setup()
    expect(pending.has('req-1')).toBe(false)
    const message = fakeMessage({ type: 'GET_REQUEST', payload: { paymentRequestId: 'req-1' } })
    await handleClientMessage(message, deps)
    expect(message.replies).toMatchObject([{ type: 'REQUEST' }])
  })

  test('stores the signing server session id from SESSION_CREATED', async () => {
    const { deps, store } = setup()
    await handleClientMessage(
      fakeMessage({ type: 'SESSION_CREATED', payload: { paymentRequestId: 'req-1', sessionId: 's-1' } }),
      deps,
    )
    expect(await store.get('req-1')).toMatchObject({ sessionId: 's-1', updatedAt: 9_000 })
  })

  test('KEEPALIVE refreshes the session so it is never taken for stale', async () => {
    const { deps, store } = setup()
    const message = fakeMessage({ type: 'KEEPALIVE', payload: { paymentRequestId: 'req-1' } })
    await handleClientMessage(message, deps)
    expect((await store.get('req-1'))?.updatedAt).toBe(9_000)
    expect(message.replies).toEqual([])
  })

  test('resolves a paid checkout with the details the server verified, not the window copy', async () => {
    const { api, calls } = fakeApi({
      get: async () => ({ status: 'paid', outcome: { kind: 'paid', details: verified } }),
    })
    const { deps, pending, store } = setup(storedSession({ sessionId: 's-1' }), api)
    const response = pending.wait('req-1')
    const forged = { ...verified, total_fee: '0.02' }
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: forged })), deps)
    await expect(response).resolves.toEqual({ methodName: METHOD, details: verified })
    expect(calls).toEqual(['get s-1'])
    expect(await store.get('req-1')).toMatchObject({ state: 'settled', response: { details: verified } })
  })

  test('accepts the window copy when the server says paid without an outcome, for this order only', async () => {
    const { api } = fakeApi({ get: async () => ({ status: 'paid' }) })
    const { deps, pending } = setup(storedSession({ sessionId: 's-1' }), api)
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: verified })), deps)
    await expect(response).resolves.toEqual({ methodName: METHOD, details: verified })
  })

  test.each([
    [
      'the server has not seen a payment',
      { get: async () => ({ status: 'at_cashier' as const }) },
      storedSession({ sessionId: 's-1' }),
    ],
    [
      'the server is down',
      { get: () => Promise.reject(new Error('ECONNREFUSED')) },
      storedSession({ sessionId: 's-1' }),
    ],
    ['the window never created a session', { get: async () => ({ status: 'paid' as const }) }, storedSession()],
  ])('never passes on a payment when %s', async (_title, answers, session) => {
    const { api } = fakeApi(answers)
    const { deps, pending } = setup(session, api)
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: verified })), deps)
    const { details } = await response
    expect(details).toMatchObject({
      success: 'false',
      cancelled: 'true',
      reason: 'failed',
      code: 'UNCONFIRMED_PAYMENT',
      failure: 'payment-unconfirmed',
    })
    expect(details).not.toHaveProperty('trade_no')
  })

  const paidElsewhere = { status: 'paid' as const, outcome: { kind: 'paid' as const, details: verified } }
  test.each([
    ['another session', { ...paidElsewhere, sessionId: 's-cheap' }],
    ['another payment request', { ...paidElsewhere, paymentRequestId: 'req-cheap' }],
    ['another merchant', { ...paidElsewhere, merchantOrigin: 'http://evil.example' }],
    ['another order', { ...paidElsewhere, outTradeNo: 'D20250101120000999999' }],
    ['another amount', { ...paidElsewhere, totalFee: '128.00' }],
    ['no description at all', { ...paidElsewhere, outTradeNo: undefined, totalFee: undefined }],
    [
      'paid details of another order',
      { ...paidElsewhere, outcome: { kind: 'paid' as const, details: { ...verified, out_trade_no: 'CHEAP' } } },
    ],
    [
      'paid details of another amount',
      { ...paidElsewhere, outcome: { kind: 'paid' as const, details: { ...verified, total_fee: '0.02' } } },
    ],
  ])('rule: the worker resolves only with its own session, never %s', async (_title, state) => {
    const { api } = fakeApi({ get: async () => state as SessionState })
    const { deps, pending } = setup(storedSession({ sessionId: 's-1' }), api)
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: verified })), deps)
    const { details } = await response
    expect(details).toMatchObject({ success: 'false', cancelled: 'true', reason: 'failed', code: 'SESSION_MISMATCH' })
    expect(details).not.toHaveProperty('trade_no')
  })

  test('rule: the window copy of a payment must be of this order and amount too', async () => {
    const { api } = fakeApi({ get: async () => ({ status: 'paid' }) })
    const { deps, pending } = setup(storedSession({ sessionId: 's-1' }), api)
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: { ...verified, total_fee: '0.02' } })), deps)
    expect((await response).details).toMatchObject({ code: 'SESSION_MISMATCH' })
  })

  test('passes on the server outcome when it differs from the window report', async () => {
    const { api } = fakeApi({
      get: async () => ({ status: 'expired', outcome: { kind: 'cancelled', reason: 'expired' } }),
    })
    const { deps, pending } = setup(storedSession({ sessionId: 's-1' }), api)
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: verified })), deps)
    expect((await response).details).toEqual({
      success: 'false',
      cancelled: 'true',
      reason: 'expired',
      failure: 'session-expired',
    })
  })

  test.each([
    [
      { kind: 'cancelled', reason: 'buyer' },
      { success: 'false', cancelled: 'true', reason: 'buyer', failure: 'cancelled' },
    ],
    [
      { kind: 'cancelled', reason: 'expired' },
      { success: 'false', cancelled: 'true', reason: 'expired', failure: 'session-expired' },
    ],
    [
      { kind: 'failed', code: 'SERVER_UNREACHABLE', message: 'down' },
      {
        success: 'false',
        cancelled: 'true',
        reason: 'failed',
        code: 'SERVER_UNREACHABLE',
        message: 'down',
        failure: 'server-unreachable',
      },
    ],
  ])('resolves %j as cancelled details', async (outcome, details) => {
    const { deps, pending } = setup()
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done(outcome)), deps)
    await expect(response).resolves.toEqual({ methodName: METHOD, details })
  })

  test('a request with invalid method data can never end paid', async () => {
    const { api, calls } = fakeApi({
      get: async () => ({ status: 'paid', outcome: { kind: 'paid', details: verified } }),
    })
    const { deps, pending } = setup(
      storedSession({ sessionId: 's-1', invalid: { field: 'sign', reason: 'is required' } }),
      api,
    )
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'paid', details: verified })), deps)
    expect((await response).details).toMatchObject({ reason: 'failed', code: 'INVALID_METHOD_DATA' })
    expect(calls).toEqual([])
  })

  test('a restarted worker keeps the result and tells the window the payment was orphaned', async () => {
    const { api } = fakeApi({ get: async () => ({ status: 'paid', outcome: { kind: 'paid', details: verified } }) })
    const { deps, store, logs } = setup(storedSession({ sessionId: 's-1' }), api)
    const message = fakeMessage(done({ kind: 'paid', details: verified }))
    await handleClientMessage(message, deps)
    expect(message.replies).toEqual([{ type: 'ABORT', payload: { reason: ABORT_REASONS.orphaned } }])
    expect(await store.get('req-1')).toMatchObject({ state: 'settled', response: { details: verified } })
    expect(logs.join()).toContain('worker restart')
  })

  test('a second report changes nothing', async () => {
    const stored: HandlerResponse = {
      methodName: METHOD,
      details: { success: 'false', cancelled: 'true', reason: 'buyer' },
    }
    const { deps, store } = setup(storedSession({ state: 'settled', response: stored }))
    const message = fakeMessage(done({ kind: 'cancelled', reason: 'expired' }))
    await handleClientMessage(message, deps)
    expect(message.replies).toEqual([{ type: 'ABORT', payload: { reason: ABORT_REASONS.settled } }])
    expect((await store.get('req-1'))?.response).toEqual(stored)
  })

  test('delivers a stored answer to a live event that missed it', async () => {
    const stored: HandlerResponse = {
      methodName: METHOD,
      details: { success: 'false', cancelled: 'true', reason: 'buyer' },
    }
    const { deps, pending } = setup(storedSession({ state: 'settled', response: stored }))
    const response = pending.wait('req-1')
    await handleClientMessage(fakeMessage(done({ kind: 'cancelled', reason: 'buyer' })), deps)
    await expect(response).resolves.toEqual(stored)
  })

  test('tells the window about unknown payments', async () => {
    const { deps } = setup(null)
    for (const data of [
      done({ kind: 'cancelled', reason: 'buyer' }),
      { type: 'SESSION_CREATED', payload: { paymentRequestId: 'req-1', sessionId: 's' } },
      { type: 'KEEPALIVE', payload: { paymentRequestId: 'req-1' } },
    ]) {
      const message = fakeMessage(data)
      await handleClientMessage(message, deps)
      expect(message.replies).toEqual([{ type: 'ABORT', payload: { reason: ABORT_REASONS.unknown } }])
    }
  })
})
