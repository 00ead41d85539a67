import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSecurityStack, type SecurityStack } from './support/stack.js'

/**
 * Bodies as proxies and other HTTP clients send them: chunked (no Content-Length), split into
 * small pieces, slow between pieces. Every POST route of the signing server and the shop answers
 * what the body deserves (2xx or 4xx), never a 500, over real sockets (no in-process fetch).
 */
let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

/** POSTs `body` chunked, in pieces of `piece` bytes with `gapMs` between them. */
function postChunked(
  url: string,
  contentType: string,
  body: string,
  piece = 7,
  gapMs = 0,
  headers: Record<string, string> = {},
) {
  const target = new URL(url)
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked', origin: target.origin, ...headers },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    void (async () => {
      for (let i = 0; i < body.length; i += piece) {
        req.write(body.slice(i, i + piece))
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs))
      }
      req.end()
    })()
  })
}

const JSON_TYPE = 'application/json'
const FORM = 'application/x-www-form-urlencoded; charset=utf-8'

describe('request bodies over real sockets', () => {
  it('chunked and slow JSON bodies reach every POST route of the shop and the signing server', async () => {
    const shop = stack.merchant.url
    const app = stack.signing.url
    const checkout = await postChunked(
      `${shop}/api/checkout`,
      JSON_TYPE,
      JSON.stringify({ items: [{ productId: 'celadon-cup', quantity: 1 }] }),
      5,
      5,
    )
    expect(checkout.status).toBe(201)
    const order = JSON.parse(checkout.text) as { orderId: string; viewToken: string }
    const buyer = { 'order-view-token': order.viewToken }
    const operator = { authorization: `Bearer ${stack.merchant.operatorToken}` }
    const answers = [
      await postChunked(`${shop}/api/orders/${order.orderId}/payment-data`, JSON_TYPE, '{}', 7, 0, buyer),
      await postChunked(`${shop}/api/orders/${order.orderId}/pay-url`, JSON_TYPE, '{"payType":"PRE_PAY"}', 7, 0, buyer),
      await postChunked(`${shop}/api/orders/${order.orderId}/confirm`, JSON_TYPE, '{"details":{}}', 7, 0, buyer),
      await postChunked(`${shop}/api/orders/${order.orderId}/check`, JSON_TYPE, '{}', 7, 0, buyer),
      await postChunked(`${shop}/api/notify`, FORM, 'notify_id=x&out_trade_no=y'),
      await postChunked(`${app}/api/sessions`, JSON_TYPE, '{"paymentRequestId":"pr-1"}'),
      await postChunked(`${app}/api/sessions/nope/return`, JSON_TYPE, '{"query":"a=b"}'),
      await postChunked(`${app}/api/sessions/nope/cancel`, JSON_TYPE, '{"reason":"buyer"}'),
      await postChunked(`${app}/notify/mapi`, FORM, 'notify_id=x&out_trade_no=y'),
      await postChunked(`${app}/notify/openapi`, FORM, 'notify_id=x&out_trade_no=y'),
      await postChunked(`${shop}/api/orders/${order.orderId}/refund`, JSON_TYPE, '{"amount":"1.00"}', 7, 0, operator),
      await postChunked(`${shop}/api/reconciliation`, JSON_TYPE, '{}', 7, 0, operator),
      await postChunked(`${shop}/api/operator/login`, JSON_TYPE, '{"token":"wrong"}'),
      await postChunked(`${shop}/api/orders/${order.orderId}/cancel`, JSON_TYPE, '{}', 7, 0, buyer),
    ]
    for (const answer of answers) expect(answer.status, answer.text).toBeLessThan(500)
    expect(answers[0]!.status).toBe(200)
    expect(answers[1]!.status).toBe(200)
    expect(answers[4]!.text).toBe('fail')
  })

  it('a chunked body over the limit is refused with 413, on both servers', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(100 * 1024) })
    const shop = await postChunked(`${stack.merchant.url}/api/checkout`, JSON_TYPE, big, 4096)
    const app = await postChunked(`${stack.signing.url}/api/sessions`, JSON_TYPE, big, 4096)
    expect(shop.status).toBe(413)
    expect(app.status).toBe(413)
  })
})
