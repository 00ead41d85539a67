import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertEdge, reportCases } from '../../../../tests/fuzz/cases.js'

/**
 * Fuzzing of the polyfill's PaymentRequest constructor and show() arguments, in Node with the
 * browser globals stubbed. FUZZ_RUNS as in tests/fuzz/edges.test.ts.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60)
const LONG = RUNS >= 1000
const OPTS = { numRuns: RUNS, ...(LONG ? {} : { interruptAfterTimeLimit: 45_000 }) }
const ORIGIN = 'http://localhost:4200'
const MERCHANT = 'http://localhost:4100'
const METHOD = `${ORIGIN}/pay`

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
    const fallback = (await load('./payment-request.ts')) as {
      configure(config: unknown): void
      PaymentRequest: typeof PaymentRequestCtor
    }
    const { resolveConfig } = (await load('../config.ts')) as { resolveConfig(o: unknown): unknown }
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
