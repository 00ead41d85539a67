import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { handleClientMessage, type ClientMessageDeps } from './client-message.js'
import { MERCHANT, METHOD, ORIGIN, fakeApi, fakeMessage, storedSession } from './fakes.js'
import { createPendingResponses } from './pending-responses.js'
import { createMemorySessionStore } from './session-store.js'
import type { HandlerResponse } from './events.js'
import { assertEdge, reportCases } from '../../../../tests/fuzz/cases.js'

/**
 * Fuzzing of the service worker's message handler in Node (any data, any origin).
 * FUZZ_RUNS as in tests/fuzz/edges.test.ts.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60)
const LONG = RUNS >= 1000
// The long mode runs every case (an interrupted run would claim cases it never ran); the bounded
// one stops early on a slow machine rather than time out.
const OPTS = { numRuns: RUNS, ...(LONG ? {} : { interruptAfterTimeLimit: 45_000 }) }

const TYPES = ['GET_REQUEST', 'SESSION_CREATED', 'KEEPALIVE', 'CHECKOUT_DONE', 'REQUEST', 'ABORT', 'HELLO']
const MESSAGE = fc.oneof(
  fc.anything(),
  fc.record(
    {
      type: fc.constantFrom(...TYPES),
      payload: fc.oneof(
        fc.anything(),
        fc.record(
          {
            paymentRequestId: fc.oneof(fc.constant('req-1'), fc.string()),
            outcome: fc.oneof(
              fc.anything(),
              fc.record({ kind: fc.constantFrom('paid', 'cancelled', 'failed'), details: fc.anything() }),
            ),
            sessionId: fc.string(),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  ),
)

describe("fuzzing the worker's message edge", { timeout: LONG ? 1_800_000 : 120_000 }, () => {
  it("the worker's message handler: foreign origins get nothing, and no message pays", async () => {
    await assertEdge(
      "the worker's message handler",
      fc.asyncProperty(
        MESSAGE,
        fc.oneof(fc.constant(ORIGIN), fc.constant(MERCHANT), fc.constant('null'), fc.webUrl(), fc.string()),
        fc.boolean(),
        async (data, origin, withPort) => {
          const store = createMemorySessionStore([storedSession()])
          const pending = createPendingResponses()
          const resolved: HandlerResponse[] = []
          void pending.wait('req-1').then((response) => void resolved.push(response))
          // The server never confirms a payment here: any "paid" answer would be the window's word.
          const { api } = fakeApi({ get: () => Promise.resolve({ status: 'at_cashier' }) })
          const deps: ClientMessageDeps = { store, pending, origin: ORIGIN, api, now: () => 9_000, log: () => {} }
          const message = fakeMessage(data, { origin, withPort })
          await handleClientMessage(message, deps)
          await new Promise((r) => setImmediate(r))
          if (origin !== ORIGIN) {
            expect(message.replies).toEqual([])
            expect(message.sourceReplies).toEqual([])
            expect(resolved).toEqual([])
            expect((await store.get('req-1'))?.state).toBe('open')
          }
          for (const response of resolved) {
            expect(response.methodName).toBe(METHOD)
            expect((response.details as { success?: string }).success).not.toBe('true')
          }
        },
      ),
      OPTS,
    )
  })
})

afterAll(() => reportCases())
