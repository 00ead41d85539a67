import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { clientAddress, createRateLimits, trustedProxyList, type RateLimitsConfig } from './rate-limit.js'

// Over real sockets on loopback: the peer every request comes from is 127.0.0.1, the proxy.
const servers: { close(): void }[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

async function start(config: RateLimitsConfig, limit = 2): Promise<string> {
  const app = new Hono()
  const rate = createRateLimits(config)
  app.use('/limited', rate.limit('test', { limit, windowMs: 60_000 }))
  app.get('/limited', (c) => c.text('ok'))
  const trusted = trustedProxyList(config.trustedProxies ?? [])
  app.get('/whoami', (c) => c.text(clientAddress(c, trusted)))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  servers.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers })

describe('createRateLimits', () => {
  it('answers 429 problem+json with Retry-After once a client used its window (memory store)', async () => {
    const url = await start({})
    expect((await get(`${url}/limited`)).status).toBe(200)
    expect((await get(`${url}/limited`)).status).toBe(200)
    const refused = await get(`${url}/limited`)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toContain('application/problem+json')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await refused.json()).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) })
  })

  it('behind a trusted proxy, two clients do not share a bucket', async () => {
    const url = await start({ trustedProxies: ['127.0.0.1'] })
    const alice = { 'x-forwarded-for': '203.0.113.1' }
    const bob = { 'x-forwarded-for': '203.0.113.2' }
    expect((await get(`${url}/limited`, alice)).status).toBe(200)
    expect((await get(`${url}/limited`, alice)).status).toBe(200)
    expect((await get(`${url}/limited`, alice)).status).toBe(429)
    // Alice's flood locks out Alice only.
    expect((await get(`${url}/limited`, bob)).status).toBe(200)
    expect((await get(`${url}/limited`, bob)).status).toBe(200)
  })

  it('ignores an untrusted peer’s X-Forwarded-For and Forwarded: one socket, one bucket', async () => {
    const url = await start({ trustedProxies: ['10.0.0.0/8'] })
    expect((await get(`${url}/limited`, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200)
    expect((await get(`${url}/limited`, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200)
    expect((await get(`${url}/limited`, { forwarded: 'for=203.0.113.3' })).status).toBe(429)
    expect(await (await get(`${url}/whoami`, { 'x-forwarded-for': '203.0.113.9' })).text()).toBe('127.0.0.1')
  })

  it('walks the proxy chain past trusted hops only, in both header forms', async () => {
    const url = await start({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] })
    const who = async (headers: Record<string, string>) => (await get(`${url}/whoami`, headers)).text()
    // The client may prepend anything; only the hop the trusted proxies saw counts.
    expect(await who({ 'x-forwarded-for': '192.0.2.66, 198.51.100.9, 10.1.2.3' })).toBe('198.51.100.9')
    expect(await who({ forwarded: 'for=192.0.2.66, for="[2001:db8::1]:4711";proto=https' })).toBe('2001:db8::1')
    expect(await who({ forwarded: 'for=198.51.100.7:8080' })).toBe('198.51.100.7')
    // An unreadable hop stops the walk at the proxy: never a value the client chose.
    expect(await who({ 'x-forwarded-for': '192.0.2.66, not-an-ip' })).toBe('127.0.0.1')
    expect(await who({})).toBe('127.0.0.1')
  })

  it('refuses a trusted proxy that is not an address or a range, naming it', () => {
    expect(() => createRateLimits({ trustedProxies: ['10.0.0.0/8', 'proxy.internal'] })).toThrow(/"proxy\.internal"/)
  })

  it('with a shared store that cannot be reached, keeps limiting in memory instead of failing', async () => {
    // A real pg Pool aimed at a closed port: every query fails, as in a database outage.
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 })
    try {
      const url = await start({ store: { pool, tableCreated: true } })
      expect((await get(`${url}/limited`)).status).toBe(200)
      expect((await get(`${url}/limited`)).status).toBe(200)
      expect((await get(`${url}/limited`)).status).toBe(429)
    } finally {
      await pool.end()
    }
  })
})
