import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handleClientMessage, type ClientMessageDeps } from '../../handler/sw/client-message'
import { MERCHANT, METHOD, ORIGIN, fakeApi, fakeMessage, storedSession } from '../../handler/sw/fakes'
import { createPendingResponses } from '../../handler/sw/pending-responses'
import { createMemorySessionStore } from '../../handler/sw/session-store'
import type { HandlerResponse } from '../../handler/sw/events'
import { assertEdge, reportCases } from './cases'

/**
 * Fuzzing of the browser-side edges, in Node: the service worker's message handler (any data,
 * any origin) and the polyfill's PaymentRequest constructor and show() arguments. FUZZ_RUNS as in
 * edges.test.ts.
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

describe('fuzzing the browser-side edges', { timeout: LONG ? 1_800_000 : 120_000 }, () => {
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

describe('fuzzing the polyfill constructor and show()', { timeout: LONG ? 1_800_000 : 120_000 }, () => {
  const saved: Record<string, unknown> = {}
  const stubs: Record<string, unknown> = {
    document: { visibilityState: 'visible' },
    location: { origin: MERCHANT },
    // The popup is "blocked": show() must still settle, with a DOMException.
    window: { open: () => null },
    navigator: { userActivation: { isActive: true } },
  }
  let PaymentRequestCtor: (new (m: unknown, d: unknown) => { show(p?: unknown): Promise<unknown> }) | undefined

  beforeAll(async () => {
    for (const [name, value] of Object.entries(stubs)) {
      saved[name] = Object.getOwnPropertyDescriptor(globalThis, name)
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true })
    }
    // Window code: loaded by a computed path, so the Node tsconfig does not type-check DOM files.
    const load = (path: string) => import(/* @vite-ignore */ new URL(path, import.meta.url).href)
    const fallback = (await load('../../polyfill/fallback/payment-request.ts')) as {
      configure(config: unknown): void
      PaymentRequest: typeof PaymentRequestCtor
    }
    const { resolveConfig } = (await load('../../polyfill/config.ts')) as { resolveConfig(o: unknown): unknown }
    fallback.configure(resolveConfig({ appOrigin: ORIGIN }))
    PaymentRequestCtor = fallback.PaymentRequest
  })
  afterAll(() => {
    reportCases()
    for (const [name, descriptor] of Object.entries(saved)) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor as PropertyDescriptor)
      else delete (globalThis as Record<string, unknown>)[name]
    }
  })

  const methodData = fc.oneof(
    fc.anything(),
    fc.array(
      fc.record(
        {
          supportedMethods: fc.oneof(fc.constantFrom('alipay', METHOD, 'basic-card', ''), fc.string()),
          data: fc.oneof(fc.anything(), fc.dictionary(fc.string(), fc.string())),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  )
  const details = fc.oneof(
    fc.anything(),
    fc.record(
      {
        id: fc.string(),
        total: fc.oneof(
          fc.anything(),
          fc.record({
            label: fc.string(),
            amount: fc.record({ currency: fc.constantFrom('CNY', 'USD', 'xx'), value: fc.string() }),
          }),
        ),
        displayItems: fc.anything(),
      },
      { requiredKeys: [] },
    ),
  )

  // WebIDL and the spec: TypeError for bad types, RangeError for a bad identifier or amount.
  const typed = (error: unknown) =>
    error instanceof TypeError || error instanceof RangeError || error instanceof DOMException

  it('the constructor throws only TypeError, RangeError or DOMException; show() only rejects with them', async () => {
    await assertEdge(
      "the polyfill's constructor and show()",
      fc.asyncProperty(methodData, details, fc.anything(), async (m, d, showArg) => {
        let request: { show(p?: unknown): Promise<unknown> }
        try {
          request = new PaymentRequestCtor!(m, d)
        } catch (error) {
          expect(typed(error), String(error)).toBe(true)
          return
        }
        const shown = request.show(showArg === undefined ? undefined : Promise.resolve(showArg))
        const outcome = await Promise.race([
          shown.then(
            () => 'resolved',
            (error: unknown) => error,
          ),
          new Promise((resolve) => setTimeout(() => resolve('hang'), 2000)),
        ])
        // A blocked popup can never end paid.
        expect(outcome).not.toBe('resolved')
        expect(outcome).not.toBe('hang')
        expect(typed(outcome), String(outcome)).toBe(true)
      }),
      OPTS,
    )
  })
})
