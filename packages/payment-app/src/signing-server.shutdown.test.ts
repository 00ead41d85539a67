import { request } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { demoPartnerConfig } from '../../../tests/support/demo-partners.js'
import { tempDir } from '../../../tests/support/harness.js'
import { createSigningServer, startSigningServer, type HandlerAssets } from './signing-server.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

// No gateway call happens in these tests; the URL is never dialled.
const base = (name: string) => ({
  gatewayUrl: 'http://127.0.0.1:9/gateway.do',
  partners: [demoPartnerConfig()],
  dbPath: `${tmp.dir}/${name}.db`,
  logger: silentLogger(),
})

/** /pay answers only when the test opens the gate: a request held in flight. */
function gatedAssets(): HandlerAssets & { open: () => void; entered: Promise<void> } {
  let open!: () => void
  let enter!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  const entered = new Promise<void>((resolve) => (enter = resolve))
  return {
    open,
    entered,
    async fetch() {
      enter()
      await gate
      return new Response('slow', { status: 200 })
    },
  }
}

/** GET over its own connection (no pool), with the response's headers. */
function get(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      response.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

describe('GET /readyz', () => {
  it('is 200 while the database answers, 503 problem+json when it does not or while shutting down', async () => {
    const server = await createSigningServer({ ...base('ready'), publicOrigin: 'http://pay.test' })
    const readyz = () => server.app.fetch(new Request('http://pay.test/readyz'))
    const ok = await readyz()
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ ok: true, store: 'sqlite', migrations: { applied: true, version: 2 } })
    expect(await (await server.app.fetch(new Request('http://pay.test/healthz'))).json()).toEqual({ ok: true })

    server.beginShutdown()
    const draining = await readyz()
    expect(draining.status).toBe(503)
    expect(draining.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(await draining.json()).toMatchObject({
      type: 'https://alipay-payment-handler.dev/problems/not-ready',
      status: 503,
      detail: 'The server is shutting down.',
    })
    await server.close()

    const broken = await createSigningServer({ ...base('broken'), publicOrigin: 'http://pay.test' })
    await broken.store.close()
    const down = await broken.app.fetch(new Request('http://pay.test/readyz'))
    expect(down.status).toBe(503)
    expect(await down.json()).toMatchObject({ detail: 'The database does not answer.' })
    await broken.close()
  })
})

describe('shutdown(timeoutMs): the SIGTERM drain', () => {
  it('stops accepting, lets the request in flight finish (Connection: close), then closes', async () => {
    const assets = gatedAssets()
    const running = await startSigningServer({ ...base('drain'), port: 0, handlerAssets: assets })
    const slow = get(`${running.url}/pay`)
    await assets.entered
    const stopped = running.shutdown(5_000)
    // No new connection once draining.
    await expect(get(`${running.url}/healthz`)).rejects.toThrow()
    assets.open()
    const answer = await slow
    expect(answer).toMatchObject({ status: 200, body: 'slow' })
    expect(answer.headers['connection']).toBe('close')
    expect(await stopped).toEqual({ drained: true, cut: 0 })
  })

  it('cuts what is still running at the deadline', async () => {
    const assets = gatedAssets()
    const running = await startSigningServer({ ...base('deadline'), port: 0, handlerAssets: assets })
    const slow = get(`${running.url}/pay`)
    await assets.entered
    const started = Date.now()
    expect(await running.shutdown(200)).toEqual({ drained: false, cut: 1 })
    expect(Date.now() - started).toBeLessThan(2_000)
    await expect(slow).rejects.toThrow()
    assets.open()
  })
})
