import { describe, expect, test, vi } from 'vitest'
import { handleAbortPayment, type AbortPaymentDeps } from './abort-payment.js'
import { METHOD, fakeApi, storedSession } from './fakes.js'
import { createPendingResponses } from './pending-responses.js'
import { createMemorySessionStore } from './session-store.js'

function setup(overrides: Partial<AbortPaymentDeps> = {}, sessions = [storedSession({ sessionId: 's-1' })]) {
  const fake = fakeApi()
  const deps: AbortPaymentDeps = {
    store: createMemorySessionStore(sessions),
    pending: createPendingResponses(),
    api: fake.api,
    methodName: METHOD,
    now: () => 2_000,
    log: () => undefined,
    ...overrides,
  }
  return { deps, calls: fake.calls }
}

const aborted = { methodName: METHOD, details: { success: 'false', cancelled: 'true', reason: 'aborted' } }

describe('handleAbortPayment', () => {
  test('answers true, closes the server session and drops the live response unanswered', async () => {
    const { deps, calls } = setup()
    let settled = false
    void deps.pending.wait('req-1').then(() => (settled = true))
    const { answer, background } = handleAbortPayment(deps)
    await expect(answer).resolves.toBe(true)
    await background
    expect(deps.pending.has('req-1')).toBe(false)
    expect(settled).toBe(false)
    expect(calls).toEqual(['abort s-1'])
    expect(await deps.store.get('req-1')).toMatchObject({ state: 'settled', response: aborted })
  })

  test('answers true even when the server is down', async () => {
    const { api } = fakeApi({ abort: () => Promise.reject(new Error('ECONNREFUSED')) })
    const { deps } = setup({ api })
    const { answer, background } = handleAbortPayment(deps)
    await expect(answer).resolves.toBe(true)
    await expect(background).resolves.toBeUndefined()
  })

  test('does not keep abort() waiting on a slow server', async () => {
    // Fake timers: the answer must come once serverWaitMs passes, whatever the machine's load.
    vi.useFakeTimers()
    try {
      const { api } = fakeApi({ abort: () => new Promise(() => undefined) })
      const { deps } = setup({ api, serverWaitMs: 20 })
      let answered: boolean | undefined
      void handleAbortPayment(deps).answer.then((value) => (answered = value))
      await vi.advanceTimersByTimeAsync(20)
      expect(answered).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })

  test('leaves settled sessions alone: a paid order is never aborted', async () => {
    const { deps, calls } = setup({}, [storedSession({ sessionId: 's-1', state: 'settled' })])
    await handleAbortPayment(deps).background
    expect(calls).toEqual([])
    expect((await deps.store.get('req-1'))?.response).toBeUndefined()
  })

  test('lets go of live events whose session never reached the store', async () => {
    const { deps } = setup({}, [])
    void deps.pending.wait('lost')
    await handleAbortPayment(deps).background
    expect(deps.pending.ids()).toEqual([])
  })

  test('aborts a session without a server session locally only', async () => {
    const { deps, calls } = setup({}, [storedSession()])
    await handleAbortPayment(deps).background
    expect(calls).toEqual([])
    expect((await deps.store.get('req-1'))?.state).toBe('settled')
  })
})
