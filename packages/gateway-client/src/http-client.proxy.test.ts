import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { undiciHttpClient } from './http-client.js'

// A file of its own: the client picks its dispatcher from the environment at its first call.
const servers: Server[] = []
const proxied: string[] = []
let target: string

async function listen(server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  target = await listen(createServer((_req, res) => res.end('from the gateway')))
  // An egress proxy: tunnels CONNECT, and forwards absolute-form requests; records each use.
  const proxy = createServer((req: IncomingMessage, res) => {
    proxied.push(`${req.method} ${req.url}`)
    const upstream = request(req.url!, { method: req.method, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers)
      reply.pipe(res)
    })
    req.pipe(upstream)
  })
  proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    proxied.push(`CONNECT ${req.url}`)
    const [host, port] = (req.url ?? '').split(':')
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
  })
  process.env['HTTP_PROXY'] = await listen(proxy)
  delete process.env['NO_PROXY']
  delete process.env['no_proxy']
})
afterAll(() => {
  delete process.env['HTTP_PROXY']
  for (const server of servers) server.close()
})

it('sends its calls through HTTP_PROXY / HTTPS_PROXY when set (EnvHttpProxyAgent)', async () => {
  const reply = await undiciHttpClient({ method: 'GET', url: `${target}/gateway.do?x=1`, timeoutMs: 5000 })
  expect(reply).toEqual({ status: 200, text: 'from the gateway' })
  expect(proxied).toHaveLength(1)
  expect(proxied[0]).toContain(new URL(target).host)
})
