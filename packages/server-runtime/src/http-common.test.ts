import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  hostsOfOrigin,
  isLoopbackOrigin,
  limitBody,
  loopbackHosts,
  refuseCrossSite,
  refuseMisdirectedHost,
  requireJson,
} from './http-common.js'

describe('hostsOfOrigin', () => {
  it('names the host with and without the default port, and every loopback name for a loopback origin', () => {
    expect(hostsOfOrigin('https://pay.example.com')).toEqual(['pay.example.com', 'pay.example.com:443'])
    expect(hostsOfOrigin('http://pay.example.com')).toEqual(['pay.example.com', 'pay.example.com:80'])
    expect(hostsOfOrigin('https://pay.example.com:8443')).toEqual(['pay.example.com:8443'])
    expect(hostsOfOrigin('http://localhost:4200')).toEqual(loopbackHosts(4200))
    expect(hostsOfOrigin('http://127.0.0.1:4200')).toEqual(['localhost:4200', '127.0.0.1:4200', '[::1]:4200'])
    expect(isLoopbackOrigin('http://[::1]:1')).toBe(true)
    expect(isLoopbackOrigin('http://localhost.evil.example')).toBe(false)
  })
})

describe('refuseMisdirectedHost', () => {
  const app = new Hono()
  app.use('*', refuseMisdirectedHost({ hosts: hostsOfOrigin('https://pay.example.com'), except: /^\/healthz$/ }))
  app.all('*', (c) => c.text('ok'))
  const ask = (url: string, host?: string) =>
    app.fetch(new Request(url, { method: 'POST', headers: host ? { host } : {} }))

  it('answers the public host (any case, with or without the port) and refuses any other with 421', async () => {
    expect((await ask('http://pay.example.com/api')).status).toBe(200)
    expect((await ask('http://pay.example.com/api', 'PAY.example.com')).status).toBe(200)
    expect((await ask('http://pay.example.com:443/api', 'pay.example.com:443')).status).toBe(200)
    const rebound = await ask('http://evil.example/api', 'evil.example')
    expect(rebound.status).toBe(421)
    expect(rebound.headers.get('content-type')).toContain('application/problem+json')
    expect(await rebound.json()).toMatchObject({ code: 'misdirected-host', status: 421 })
    // The URL's authority (absolute-form target) and the Host header must both be ours.
    expect((await ask('http://evil.example/api', 'pay.example.com')).status).toBe(421)
    expect((await ask('http://pay.example.com/api', 'evil.example')).status).toBe(421)
    expect((await ask('http://pay.example.com:80/api', 'pay.example.com:80')).status).toBe(421)
  })

  it('leaves the excepted paths (health probes) to any Host', async () => {
    expect((await ask('http://10.0.0.7:4200/healthz', '10.0.0.7:4200')).status).toBe(200)
  })
})

describe('requireJson', () => {
  const app = new Hono()
  app.use('*', requireJson({ except: /^\/notify$/ }))
  app.all('*', (c) => c.text('ok'))
  const post = (path: string, type?: string) =>
    app.fetch(
      new Request(`http://pay.test${path}`, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: '{}',
      }),
    )

  it('takes application/json (with parameters) and refuses the types of simple requests with 415', async () => {
    expect((await post('/api', 'application/json')).status).toBe(200)
    expect((await post('/api', 'Application/JSON; charset=utf-8')).status).toBe(200)
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const refused = await post('/api', type)
      expect(refused.status, type).toBe(415)
      expect((await refused.json()) as { type: string }).toMatchObject({
        type: expect.stringMatching(/json-required$/),
      })
    }
    // A body whose type is missing is no JSON either (fetch would label a string text/plain).
    const untyped = await app.fetch(new Request('http://pay.test/api', { method: 'POST' }))
    expect(untyped.status).toBe(415)
    expect((await post('/api', 'application/json-patch+json')).status).toBe(415)
  })

  it('leaves safe methods and the excepted paths alone', async () => {
    expect((await app.fetch(new Request('http://pay.test/api'))).status).toBe(200)
    expect((await post('/notify', 'application/x-www-form-urlencoded')).status).toBe(200)
  })
})

describe('refuseCrossSite with the public origin', () => {
  const app = new Hono()
  app.use('*', refuseCrossSite({ allowedOrigins: ['https://pay.example.com'] }))
  app.all('*', (c) => c.text('ok'))
  const post = (headers: Record<string, string>) =>
    app.fetch(new Request('http://pay.example.com/api', { method: 'POST', headers }))

  it('takes the public origin and requests without browser headers, and refuses other origins', async () => {
    expect((await post({ origin: 'https://pay.example.com', 'sec-fetch-site': 'same-origin' })).status).toBe(200)
    expect((await post({})).status).toBe(200)
    expect((await post({ origin: 'https://shop.example.com' })).status).toBe(403)
    expect((await post({ origin: 'null' })).status).toBe(403)
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403)
  })
})

describe('limitBody, on a real server', () => {
  const app = new Hono()
  app.use('*', limitBody(64))
  app.all('*', async (c) => c.text(`${c.req.method} ${(await c.req.text()).length}`))
  let listener: ReturnType<typeof serve>
  let port = 0
  beforeAll(async () => {
    listener = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false })
    port = await new Promise<number>((resolve) =>
      listener.once('listening', () => resolve((listener.address() as AddressInfo).port)),
    )
  })
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())))

  /** Sends `body` in one piece with its Content-Length, or chunked in pieces of 10 bytes. */
  const send = (method: string, body: string | undefined, chunked = false) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers: Record<string, string | number> = chunked
        ? { 'transfer-encoding': 'chunked' }
        : body === undefined
          ? {}
          : { 'content-length': Buffer.byteLength(body) }
      const req = httpRequest({ host: '127.0.0.1', port, method, path: '/x', headers }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      })
      req.on('error', reject)
      if (body !== undefined && chunked) for (let i = 0; i < body.length; i += 10) req.write(body.slice(i, i + 10))
      req.end(chunked ? undefined : body)
    })

  it('lets bodies up to the limit through, declared or chunked, and requests without one', async () => {
    expect(await send('POST', 'a'.repeat(64))).toEqual({ status: 200, text: 'POST 64' })
    expect(await send('POST', 'b'.repeat(64), true)).toEqual({ status: 200, text: 'POST 64' })
    expect(await send('POST', '', true)).toEqual({ status: 200, text: 'POST 0' })
    expect(await send('GET', undefined)).toEqual({ status: 200, text: 'GET 0' })
  })

  it('refuses a bigger body with 413, whether its length is declared or it arrives chunked', async () => {
    for (const chunked of [false, true]) {
      const reply = await send('POST', 'c'.repeat(65), chunked)
      expect(reply.status).toBe(413)
      expect(JSON.parse(reply.text)).toMatchObject({ type: expect.stringMatching(/body-too-large$/), status: 413 })
    }
  })
})
