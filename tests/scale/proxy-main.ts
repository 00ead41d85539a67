/**
 * Scale suite child: a round-robin HTTP reverse proxy in front of several processes of one kind,
 * as nginx's `upstream` block would be. A connection that cannot be opened (the upstream was
 * SIGKILLed and is restarting) is tried on the next upstream, since nothing was sent; a request
 * cut after it was sent is answered 502 and left to the client to retry, because the upstream may
 * have acted on it (nginx does the same for non-idempotent methods).
 * `GET /_proxy/stats` answers its counters. Env: PROXY_PORT, PROXY_UPSTREAMS (host:port,…).
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'

const port = Number(process.env['PROXY_PORT'] ?? 0)
const upstreams = (process.env['PROXY_UPSTREAMS'] ?? '')
  .split(',')
  .filter(Boolean)
  .map((hostPort) => {
    const [host, portText] = hostPort.split(':')
    return { host: host!, port: Number(portText) }
  })
if (upstreams.length === 0) throw new Error('[alipay-scale] PROXY_UPSTREAMS is empty')

const agent = new Agent({ keepAlive: true, maxSockets: 64 })
const stats = {
  requests: 0,
  perUpstream: upstreams.map(() => 0),
  /** Connections refused (or a reused connection found dead) and tried on the next upstream. */
  retriedElsewhere: 0,
  /** Requests cut after they were sent, or with every upstream down: answered 502. */
  badGateway: 0,
}
let next = 0

/** Headers that describe one connection, not the request: each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te'])

function forwardHeaders(headers: IncomingHttpHeaders, client: string | undefined): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value
  out['x-forwarded-for'] = [headers['x-forwarded-for'], client].filter(Boolean).join(', ')
  return out
}

/** Sends one request upstream; resolves with the answer, or rejects saying whether it may be tried elsewhere. */
function send(
  index: number,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<IncomingMessage> {
  const upstream = upstreams[index]!
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: upstream.host, port: upstream.port, method, path, headers, agent },
      (response) => resolve(response),
    )
    outgoing.once('error', (error: NodeJS.ErrnoException) => {
      // Refused: nothing reached the upstream. Reset on a kept-alive connection before any byte of
      // an answer: the connection had died while idle in the pool (Node's documented retry case).
      const retriable = error.code === 'ECONNREFUSED' || (outgoing.reusedSocket && error.code === 'ECONNRESET')
      reject(Object.assign(error, { retriable }))
    })
    outgoing.end(body)
  })
}

const server = createServer((incoming, outgoing) => {
  if (incoming.url === '/_proxy/stats') {
    outgoing.writeHead(200, { 'content-type': 'application/json' })
    outgoing.end(JSON.stringify(stats))
    return
  }
  stats.requests++
  const chunks: Buffer[] = []
  incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
  incoming.on('end', async () => {
    const body = Buffer.concat(chunks)
    const headers = forwardHeaders(incoming.headers, incoming.socket.remoteAddress)
    // Each upstream at most twice: a restart that is not listening yet fails its turn, not the request.
    for (let tries = 0; tries < upstreams.length * 2; tries++) {
      const index = next++ % upstreams.length
      try {
        const answer = await send(index, incoming.method ?? 'GET', incoming.url ?? '/', headers, body)
        stats.perUpstream[index]!++
        const answerHeaders: Record<string, string | string[]> = {}
        for (const [name, value] of Object.entries(answer.headers))
          if (value !== undefined && !HOP_BY_HOP.has(name)) answerHeaders[name] = value
        outgoing.writeHead(answer.statusCode ?? 502, answerHeaders)
        answer.pipe(outgoing)
        answer.once('error', () => outgoing.destroy())
        return
      } catch (error) {
        if (!(error as { retriable?: boolean }).retriable) break
        stats.retriedElsewhere++
        if (tries + 1 >= upstreams.length) await new Promise((r) => setTimeout(r, 50))
      }
    }
    stats.badGateway++
    if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' })
    outgoing.end('bad gateway')
  })
})
server.keepAliveTimeout = 30_000
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY http://127.0.0.1:${port}\n`))
