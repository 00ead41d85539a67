import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeForm } from '@alipay-payment-handler/protocol'
import { createSandboxApp } from './app.js'
import { demoSandboxConfig } from './config.js'
import { createSandboxDeps, type SandboxDeps } from './deps.js'
import { requestLogOf, type LogEntry } from './request-log.js'
import { payParams, signRequest } from './testing.js'

let deps: SandboxDeps
let app: ReturnType<typeof createSandboxApp>

beforeAll(() => {
  deps = createSandboxDeps(demoSandboxConfig({ log: () => {} }))
  app = createSandboxApp(deps)
})
afterAll(() => deps.store.close())

const gateway = (params: Record<string, string>, accept = 'text/html') =>
  app.fetch(new Request(`http://sandbox.test/gateway.do?${encodeForm(params)}`, { headers: { accept } }))

const callsOf = (outTradeNo: string) =>
  requestLogOf(deps)
    .entries({ outTradeNo })
    .filter((e): e is Extract<LogEntry, { type: 'call' }> => e.type === 'call')

describe('the request log', () => {
  it('records a pay request with its decoded parameters, a good signature and the redirect', async () => {
    const params = payParams({ subject: '茉莉花茶' })
    const response = await gateway(await signRequest(params))
    expect(response.status).toBe(302)
    const [call] = callsOf(params['out_trade_no']!)
    expect(call).toMatchObject({
      service: 'create_direct_pay_by_user',
      signCheck: 'ok',
      status: 302,
      params: { subject: '茉莉花茶', total_fee: '0.01' },
    })
    expect(call!.answer).toMatch(/^redirect → \/cashier\/[0-9a-f]{32}$/)
  })

  it('records a forged signature as failed, with the error the gateway answered', async () => {
    const params = payParams()
    const signed = await signRequest(params)
    await gateway({ ...signed, total_fee: '100.00' })
    const [call] = callsOf(params['out_trade_no']!)
    expect(call).toMatchObject({ signCheck: 'failed (ILLEGAL_SIGN)', answer: 'error page ILLEGAL_SIGN' })
    expect(call!.params['total_fee']).toBe('100.00')
  })

  it('filters by order: another order’s calls stay out', async () => {
    const a = payParams()
    const b = payParams()
    await gateway(await signRequest(a))
    await gateway(await signRequest(b))
    expect(callsOf(a['out_trade_no']!).map((c) => c.params['out_trade_no'])).toEqual([a['out_trade_no']])
  })
})
