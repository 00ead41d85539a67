import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpCallError, fetchHttpClient, nodeHttpClient, undiciHttpClient, type HttpClient } from './http-client.js'

const open: { close(): void }[] = []
afterEach(() => {
  for (const server of open.splice(0)) server.close()
})

async function listen<T extends Server | ReturnType<typeof createNetServer>>(server: T): Promise<string> {
  open.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof HttpCallError ? error.failure : error),
  )

// Both clients keep the same contract: undici is the default, node:http its measured alternative.
const CLIENTS: [string, HttpClient][] = [
  ['node:http', nodeHttpClient],
  ['undici', undiciHttpClient],
]

describe.each(CLIENTS)('the server-to-server HTTP client on %s', (_name, client) => {
  it('sends method, headers and body, and reads status and text, on one kept-alive connection', async () => {
    const seen: { method?: string; type?: string; body: string; socket: Socket }[] = []
    const url = await listen(
      createHttpServer((req, res) => {
        let body = ''
        req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
        req.on('end', () => {
          seen.push({ method: req.method, type: req.headers['content-type'], body, socket: req.socket })
          res.writeHead(req.method === 'POST' ? 200 : 404).end(req.method === 'POST' ? 'success' : 'nope')
        })
      }),
    )
    const body = 'notify_id=a&subject=%E5%92%96%E5%95%A1'
    const post = await client({
      method: 'POST',
      url: `${url}/notify`,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
      timeoutMs: 2000,
    })
    // undici hands a connection back to its pool a moment after the reply's end; a call made in
    // the same tick opens another (both are kept alive; under load the pool stays at its bound).
    await new Promise((resolve) => setTimeout(resolve, 20))
    const get = await client({ method: 'GET', url: `${url}/gateway.do?x=1`, timeoutMs: 2000 })
    expect(post).toEqual({ status: 200, text: 'success' })
    expect(get).toEqual({ status: 404, text: 'nope' })
    expect(seen.map((s) => [s.method, s.type, s.body])).toEqual([
      ['POST', 'application/x-www-form-urlencoded; charset=utf-8', body],
      ['GET', undefined, ''],
    ])
    expect(seen[0]!.socket).toBe(seen[1]!.socket)
  })

  it('gives up with "timeout" when the reply does not come in time', async () => {
    const url = await listen(createHttpServer(() => undefined))
    const started = Date.now()
    expect(await failureOf(client({ method: 'GET', url, timeoutMs: 150 }))).toBe('timeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('says "unreachable" for a closed port or a URL it cannot call', async () => {
    const url = await listen(createHttpServer())
    open.pop()!.close()
    expect(await failureOf(client({ method: 'GET', url, timeoutMs: 2000 }))).toBe('unreachable')
    expect(await failureOf(client({ method: 'GET', url: 'ftp://x/', timeoutMs: 2000 }))).toBe('unreachable')
    expect(await failureOf(client({ method: 'GET', url: 'not a url', timeoutMs: 2000 }))).toBe('unreachable')
  })

  it('stops reading a reply over 1 MiB', async () => {
    const url = await listen(createHttpServer((_req, res) => res.end(Buffer.alloc(2 << 20, 'a'))))
    expect(await failureOf(client({ method: 'GET', url, timeoutMs: 5000 }))).toBe('reply-too-large')
  })

  it('says "broken-reply" when the peer hangs up in the middle of a reply', async () => {
    const url = await listen(
      createNetServer((socket) =>
        socket.once('data', () => {
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf')
          setTimeout(() => socket.destroy(), 20)
        }),
      ),
    )
    expect(await failureOf(client({ method: 'GET', url, timeoutMs: 2000 }))).toBe('broken-reply')
  })

  it('sends once more on a fresh connection when a reused idle connection was reset', async () => {
    // A peer that closes kept-alive connections the moment a second request arrives on them,
    // as a server whose idle timeout just ran out does.
    let connections = 0
    const url = await listen(
      createNetServer((socket) => {
        connections++
        let requests = 0
        socket.on('data', () => {
          requests++
          if (requests === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\ntrue')
          else socket.resetAndDestroy()
        })
      }),
    )
    expect(await client({ method: 'GET', url, timeoutMs: 2000 })).toEqual({ status: 200, text: 'true' })
    expect(await client({ method: 'GET', url, timeoutMs: 2000 })).toEqual({ status: 200, text: 'true' })
    expect(connections).toBe(2)
  })

  it('maps an injected fetch the same way: reply, timeout, unreachable', async () => {
    const replying = fetchHttpClient(async () => new Response('success', { status: 202 }))
    expect(await replying({ method: 'POST', url: 'http://x/', body: 'a=1', timeoutMs: 100 })).toEqual({
      status: 202,
      text: 'success',
    })
    const hanging = fetchHttpClient(
      (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))),
    )
    expect(await failureOf(hanging({ method: 'GET', url: 'http://x/', timeoutMs: 50 }))).toBe('timeout')
    const refusing = fetchHttpClient(async () => Promise.reject(new TypeError('fetch failed')))
    expect(await failureOf(refusing({ method: 'GET', url: 'http://x/', timeoutMs: 50 }))).toBe('unreachable')
  })
})
