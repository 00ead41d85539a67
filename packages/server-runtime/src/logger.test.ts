import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createLogger, requestLogging, type RequestLogVariables } from './logger.js'

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: string[] = []
  const logger = createLogger({ level, name: 'test', write: (line) => lines.push(line) })
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, lines, parsed }
}

describe('createLogger (pino)', () => {
  it('writes one JSON line per event with an ISO time, the level by name, the name and the fields', () => {
    const { logger, parsed } = capture()
    logger.info('session.created', { sessionId: 's1', amount: '0.01' })
    const [line] = parsed()
    expect(line).toMatchObject({
      level: 'info',
      name: 'test',
      event: 'session.created',
      sessionId: 's1',
      amount: '0.01',
    })
    expect(new Date(String(line!['time'])).toISOString()).toBe(line!['time'])
  })

  it('drops events below the configured level', () => {
    const { logger, parsed } = capture('warn')
    logger.debug('a')
    logger.info('b')
    logger.warn('c')
    logger.error('d')
    expect(parsed().map((l) => l['event'])).toEqual(['c', 'd'])
  })

  it("children carry their bindings and their parents', at the parent's level", () => {
    const { logger, parsed } = capture('warn')
    const bindings = { requestId: 'r1' }
    const child = logger.child(bindings)
    // Bindings are taken when the child is made, not when it first logs.
    bindings.requestId = 'changed'
    child.info('dropped')
    const grandchild = child.child({ sessionId: 's1' })
    grandchild.debug('dropped too')
    child.warn('child.line', { n: 1 })
    grandchild.error('grandchild.line')
    logger.warn('parent.line')
    const lines = parsed()
    expect(lines.map((l) => l['event'])).toEqual(['child.line', 'grandchild.line', 'parent.line'])
    expect(lines[0]).toMatchObject({ requestId: 'r1', n: 1 })
    expect(lines[1]).toMatchObject({ requestId: 'r1', sessionId: 's1' })
    expect(lines[2]).not.toHaveProperty('requestId')
  })

  it('redacts keys, signatures and buyer ids by name at any depth, and by path in child bindings', () => {
    const { logger, lines, parsed } = capture()
    const key = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-private-key'
    logger.warn('notify.bad-signature', {
      params: { out_trade_no: 'D1', sign: 'c2lnbmF0dXJl', sign_type: 'RSA2', buyer_id: '2088102122524333' },
      partner: { md5Key: 'demo-md5-key-0123', privateKey: key, nested: [{ buyer_email: 'buyer@example.com' }] },
      headers: { authorization: 'Bearer op-token', cookie: 'order_view=abc' },
    })
    logger.child({ buyer_id: '2088000000000001', sign: 'c2ln' }).info('child.line')
    const text = lines.join('\n')
    for (const secret of [
      'c2lnbmF0dXJl',
      '2088102122524333',
      'demo-md5-key-0123',
      key,
      'buyer@example.com',
      'op-token',
      'order_view=abc',
      '2088000000000001',
      'c2ln"',
    ]) {
      expect(text).not.toContain(secret)
    }
    const [first, second] = parsed()
    expect(first).toMatchObject({
      params: { out_trade_no: 'D1', sign: '[redacted]', sign_type: 'RSA2', buyer_id: '[redacted]' },
      partner: { md5Key: '[redacted]', privateKey: '[redacted]', nested: [{ buyer_email: '[redacted]' }] },
    })
    expect(second).toMatchObject({ event: 'child.line', buyer_id: '[redacted]', sign: '[redacted]' })
  })

  it('serializes errors as name, message and code, never a stack full of paths', () => {
    const { logger, parsed } = capture()
    logger.error('x', { error: Object.assign(new Error('disk full'), { code: 'ENOSPC' }) })
    expect(parsed()[0]!['error']).toEqual({ name: 'Error', message: 'disk full', code: 'ENOSPC' })
  })
})

describe('requestLogging', () => {
  it('gives every request an id, answers it, and logs the route pattern with the request id', async () => {
    const { logger, parsed } = capture()
    const app = new Hono<{ Variables: RequestLogVariables }>()
    app.use('*', requestLogging(logger))
    app.get('/orders/:id', (c) => {
      c.get('logger').info('order.read', { orderId: c.req.param('id') })
      return c.text('ok')
    })
    const first = await app.fetch(new Request('http://x.test/orders/D1'))
    const id = first.headers.get('x-request-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const lines = parsed()
    expect(lines.find((l) => l['event'] === 'order.read')).toMatchObject({ requestId: id, orderId: 'D1' })
    expect(lines.find((l) => l['event'] === 'http.request')).toMatchObject({
      requestId: id,
      route: '/orders/:id',
      status: 200,
      method: 'GET',
    })
    // A proxy's id is kept; a hostile one is replaced.
    const proxied = await app.fetch(
      new Request('http://x.test/orders/D2', { headers: { 'x-request-id': 'edge-1234abcd' } }),
    )
    expect(proxied.headers.get('x-request-id')).toBe('edge-1234abcd')
    const hostile = await app.fetch(
      new Request('http://x.test/orders/D3', { headers: { 'x-request-id': '<script>"x"</script>' } }),
    )
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})
