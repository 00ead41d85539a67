import { describe, expect, test } from 'vitest'
import { HandlerError } from './errors.js'
import { createSessionsApi, problemCode } from './sessions-api.js'

const request = {
  paymentRequestId: 'r1',
  merchantOrigin: 'http://localhost:4100',
  methodData: {
    service: 's',
    partner: 'p',
    _input_charset: 'utf-8',
    sign_type: 'MD5',
    sign: 'x',
    notify_url: 'http://n',
  },
  total: { currency: 'CNY', value: '0.01' },
}

function recording(answer: () => Promise<Response>) {
  const calls: { url: string; method: string; body: unknown }[] = []
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined })
    return answer()
  }) as typeof globalThis.fetch
  return { calls, api: createSessionsApi({ baseUrl: 'http://localhost:4200', fetch }) }
}

const json = (body: unknown, status = 200, type = 'application/json') =>
  Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': type } }))

describe('sessions API client', () => {
  test('creates a session with the request and the device', async () => {
    const { api, calls } = recording(() => json({ sessionId: 's1', status: 'created', cashierUrl: 'http://gw/x' }, 201))
    const created = await api.create(request, 'pc')
    expect(created.sessionId).toBe('s1')
    expect(calls).toEqual([
      { url: 'http://localhost:4200/api/sessions', method: 'POST', body: { ...request, device: 'pc' } },
    ])
  })

  test('long-polls with ?wait and posts the raw return query', async () => {
    const { api, calls } = recording(() => json({ status: 'paid' }))
    await api.get('s 1', 25)
    await api.submitReturn('s1', 'is_success=T&sign=a%2Fb')
    await api.cancel('s1')
    await api.abort('s1')
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET http://localhost:4200/api/sessions/s%201?wait=25',
      'POST http://localhost:4200/api/sessions/s1/return',
      'POST http://localhost:4200/api/sessions/s1/cancel',
      'POST http://localhost:4200/api/sessions/s1/abort',
    ])
    expect(calls[1]?.body).toEqual({ query: 'is_success=T&sign=a%2Fb' })
  })

  test('a network failure is SERVER_UNREACHABLE', async () => {
    const { api } = recording(() => Promise.reject(new TypeError('fetch failed')))
    await expect(api.create(request)).rejects.toMatchObject({ code: 'SERVER_UNREACHABLE' })
  })

  test('a 5xx is SERVER_UNREACHABLE', async () => {
    const { api } = recording(() => json({ title: 'oops' }, 502))
    await expect(api.get('s1')).rejects.toMatchObject({ code: 'SERVER_UNREACHABLE', details: { status: 502 } })
  })

  test('a problem+json refusal is SESSION_REJECTED with its stable problem code', async () => {
    const problem = { type: 'https://alipay-payment-handler.dev/problems/order-expired', title: 'Expired', status: 409 }
    const { api } = recording(() => json(problem, 409, 'application/problem+json'))
    const error: unknown = await api.create(request).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HandlerError)
    expect(error).toMatchObject({
      code: 'SESSION_REJECTED',
      details: { problem: 'order-expired', status: 409, title: 'Expired' },
    })
    expect((error as Error).message).toMatch(/^\[alipay-handler\] /)
  })

  test('problemCode reads the last segment of the type, or the status', () => {
    expect(problemCode({ type: 'https://alipay-payment-handler.dev/problems/invalid-signature' }, 400)).toBe(
      'invalid-signature',
    )
    expect(problemCode({ type: 'https://other.example/errors/bad' }, 400)).toBe('bad')
    expect(problemCode({}, 404)).toBe('http-404')
    expect(problemCode(null, 400)).toBe('http-400')
  })
})
