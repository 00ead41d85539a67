// What the openapi signing-server tests (tests/server/openapi-*.test.ts) do alike: a sandbox, a
// signing server that polls and retries quickly, its sessions API, and a buyer paying at the cashier.
import { expect } from 'vitest'
import type { Params } from '@alipay-payment-handler/protocol'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { postCashierPay } from '@alipay-payment-handler/sandbox/testing'
import { silentLogger } from '@alipay-payment-handler/server-runtime'

/** The merchant page's origin the sessions are opened for. */
export const MERCHANT_ORIGIN = 'http://localhost:4100'

/** The sandbox with its database in `dir`, its retry gaps and expiries a thousand times shorter. */
export function startTestSandbox(dir: string): Promise<RunningSandbox> {
  return startSandbox(demoSandboxConfig({ port: 0, dbPath: `${dir}/sandbox.db`, timeScale: 0.001, log: () => {} }))
}

/** Signing-server options for a test: its database in `dir`, quick polls and outbox retries, no rate limits. */
export const quickSigningServer = (dir: string) => ({
  dbPath: `${dir}/signing.db`,
  logger: silentLogger(),
  pollIntervalMs: 50,
  outboxIntervalMs: 20,
  retryGapsMs: [150, 150, 150],
  rateLimits: false as const,
  gatewayTimeoutMs: 3000,
})

/** The signing server's JSON API as the checkout window calls it. */
export function sessionsApi(signingUrl: () => string) {
  const call = async (path: string, body?: unknown) => {
    const response = await fetch(`${signingUrl()}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, json: (await response.json()) as any }
  }
  /** A session for the merchant's signed method data, at its own total. */
  const createSession = (data: Params, device: 'pc' | 'wap' = 'pc') =>
    call('/api/sessions', {
      paymentRequestId: `pr-${Math.random()}`,
      merchantOrigin: MERCHANT_ORIGIN,
      methodData: data,
      total: { currency: 'CNY', value: data['total_fee'] },
      device,
    })
  return { call, createSession }
}

/** Opens the cashier and pays as the test buyer; answers where the cashier sends the browser back. */
export async function payAtCashier(cashierUrl: string): Promise<string> {
  const toCashier = await fetch(cashierUrl, { redirect: 'manual' })
  expect(toCashier.status).toBe(302)
  const paid = await postCashierPay(new URL(toCashier.headers.get('location')!, cashierUrl).toString())
  expect(paid.status).toBe(303)
  return paid.headers.get('location')!
}
