// Runs unchanged in Node and in a service worker (bundled by bench/suites/browser.ts), so both
// sides of the "protocol/ in the service worker vs Node" row time exactly the same code.
import { signParams, verifyParams, type KeyRing } from '@alipay-payment-handler/protocol'
import { DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { NOTIFY } from '../support/notify-fixture.js'

/** The sign types the row covers. */
export const SIGN_TYPES = ['MD5', 'RSA', 'RSA2'] as const

/** µs per signParams + verifyParams of one notify, per sign type. */
export type ProtocolTimings = Record<(typeof SIGN_TYPES)[number], number>

// One pair signs and verifies, so every verify succeeds (checked, or the figure would be void).
const KEYS: KeyRing = {
  md5Key: DEMO_PARTNER.md5Key,
  privateKey: DEMO_MERCHANT_RSA.privateKey,
  publicKey: DEMO_MERCHANT_RSA.publicKey,
}

/** Warm-up rounds per sign type: key import and JIT happen here, not in the figure. */
const WARMUP_ROUNDS = 10

/** Times sign + verify for each sign type for about `msPerType` ms; mean µs per round. */
export async function timeProtocol(msPerType: number): Promise<ProtocolTimings> {
  const result: Partial<ProtocolTimings> = {}
  for (const signType of SIGN_TYPES) {
    const round = async () => {
      const signed = await signParams(NOTIFY, { signType, keys: KEYS })
      if (!(await verifyParams(signed, { keys: KEYS })).ok) throw new Error(`${signType} did not verify`)
    }
    for (let i = 0; i < WARMUP_ROUNDS; i++) await round()
    let rounds = 0
    const started = performance.now()
    while (performance.now() - started < msPerType) {
      await round()
      rounds++
    }
    result[signType] = ((performance.now() - started) * 1000) / rounds
  }
  return result as ProtocolTimings
}
