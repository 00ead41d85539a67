// The module objects, not named imports: `http.request` is looked up per call, so fault
// injection that patches it (msw in the unit tests) sees these calls too.
import http, { type ClientRequest, type IncomingMessage } from 'node:http'
import https from 'node:https'
import type { Dispatcher, request as undiciRequest } from 'undici'
import { timeoutSignal } from './timeout-signal.js'

/** One server-to-server call: the gateway, or a merchant's notify_url. */
export interface HttpCall {
  method: 'GET' | 'POST'
  url: string
  headers?: Record<string, string>
  body?: string
  /** For the whole call: connecting, sending and reading the reply. */
  timeoutMs: number
  /** What the call is for, as metrics label it: a gateway API call (default) or a forwarded notify. */
  purpose?: 'gateway' | 'notify'
}

/** A complete reply. Redirects are not followed: a gateway or notify_url that redirects is misconfigured. */
export interface HttpReply {
  status: number
  text: string
}

/** Why a call got no complete reply. */
export type HttpFailure = 'timeout' | 'unreachable' | 'broken-reply' | 'reply-too-large'

export class HttpCallError extends Error {
  override name = 'HttpCallError'
  readonly failure: HttpFailure

  constructor(failure: HttpFailure, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.failure = failure
  }
}

/** Sends a call; rejects only with an `HttpCallError`. */
export type HttpClient = (call: HttpCall) => Promise<HttpReply>

/** One finished outbound call, as `onHttpCall` observers see it. */
export interface HttpCallRecord {
  purpose: 'gateway' | 'notify'
  /** The called origin (`https://openapi.alipay.com`): few distinct values, fit for a metric label. */
  origin: string
  method: HttpCall['method']
  /** The reply's status, or undefined when there was none. */
  status: number | undefined
  /** `ok` for any complete reply, else the failure. */
  outcome: 'ok' | HttpFailure
  seconds: number
}

const observers = new Set<(record: HttpCallRecord) => void>()

/** Watches every outbound call of this process's clients (metrics); answers the unsubscribe. */
export function onHttpCall(observer: (record: HttpCallRecord) => void): () => void {
  observers.add(observer)
  return () => observers.delete(observer)
}

/** Wraps a client so its calls are reported to the observers. */
function observed(client: HttpClient): HttpClient {
  return async (call) => {
    const started = performance.now()
    const report = (status: number | undefined, outcome: HttpCallRecord['outcome']) => {
      if (observers.size === 0) return
      let origin = 'invalid'
      try {
        origin = new URL(call.url).origin
      } catch {
        // reported as "invalid"
      }
      const record = {
        purpose: call.purpose ?? 'gateway',
        origin,
        method: call.method,
        status,
        outcome,
        seconds: (performance.now() - started) / 1000,
      }
      for (const observer of observers) observer(record)
    }
    try {
      const reply = await client(call)
      report(reply.status, 'ok')
      return reply
    } catch (error) {
      report(undefined, error instanceof HttpCallError ? error.failure : 'unreachable')
      throw error
    }
  }
}

/** Gateway replies are a few KB; a bigger one is not the gateway's, and is not read into memory. */
const MAX_REPLY_BYTES = 1 << 20

// Keep-alive: a notify storm makes thousands of calls to the same two hosts. Free sockets are
// unref'd by Node, so they never hold a process open.
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }

/**
 * The default client, on `node:http`. In a relay profile, `fetch` spent a quarter of the relay's
 * CPU in stream, header and signal bookkeeping for these small bodies; this does none of it.
 */
export const nodeHttpClient: HttpClient = observed((call) => send(call, true))

function send(call: HttpCall, mayRetry: boolean): Promise<HttpReply> {
  return new Promise<HttpReply>((resolve, reject) => {
    let url: URL
    try {
      url = new URL(call.url)
    } catch (cause) {
      reject(new HttpCallError('unreachable', `not a URL: ${call.url}`, { cause }))
      return
    }
    const secure = url.protocol === 'https:'
    if (!secure && url.protocol !== 'http:') {
      reject(new HttpCallError('unreachable', `not an http(s) URL: ${call.url}`))
      return
    }
    const body = call.body === undefined ? undefined : Buffer.from(call.body, 'utf8')
    const headers: Record<string, string | number> = { ...call.headers }
    if (body) headers['content-length'] = body.length
    const options = { method: call.method, headers, agent: secure ? agents.https : agents.http }
    let settled = false
    let gotReply = false
    const fail = (error: HttpCallError) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      reject(error)
    }
    const req: ClientRequest = (secure ? https.request : http.request)(url, options, (res: IncomingMessage) => {
      gotReply = true
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_REPLY_BYTES) fail(new HttpCallError('reply-too-large', `reply over ${MAX_REPLY_BYTES} bytes`))
        else chunks.push(chunk)
      })
      res.on('end', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', (cause) =>
        fail(new HttpCallError('broken-reply', `reply broken off (${cause.message})`, { cause })),
      )
      res.on('aborted', () => fail(new HttpCallError('broken-reply', 'reply broken off')))
    })
    const timer = setTimeout(
      () => fail(new HttpCallError('timeout', `no complete reply within ${call.timeoutMs} ms`)),
      call.timeoutMs,
    )
    req.on('error', (cause: NodeJS.ErrnoException) => {
      if (settled) return
      // The peer closed an idle keep-alive connection as we reused it: the request never got
      // there, so sending it once more on a fresh connection is safe (Node's documented recipe).
      if (mayRetry && !gotReply && req.reusedSocket && cause.code === 'ECONNRESET') {
        settled = true
        clearTimeout(timer)
        send(call, false).then(resolve, reject)
        return
      }
      fail(
        gotReply
          ? new HttpCallError('broken-reply', `reply broken off (${cause.message})`, { cause })
          : new HttpCallError('unreachable', `cannot reach ${url.host} (${cause.message})`, { cause }),
      )
    })
    req.end(body)
  })
}

const isTimeout = (error: unknown) =>
  error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')

/** A client over an injected `fetch` (in-process test servers, fault injection). */
export function fetchHttpClient(doFetch: typeof fetch): HttpClient {
  return observed(async (call) => {
    const signal = timeoutSignal(call.timeoutMs)
    let response: Response
    try {
      response = await doFetch(call.url, {
        method: call.method,
        ...(call.headers ? { headers: call.headers } : {}),
        ...(call.body === undefined ? {} : { body: call.body }),
        redirect: 'manual',
        signal,
      })
    } catch (cause) {
      if (isTimeout(cause)) throw new HttpCallError('timeout', `no reply within ${call.timeoutMs} ms`, { cause })
      throw new HttpCallError('unreachable', `cannot reach ${call.url} (${String(cause)})`, { cause })
    }
    try {
      return { status: response.status, text: await response.text() }
    } catch (cause) {
      if (isTimeout(cause))
        throw new HttpCallError('timeout', `reply not complete within ${call.timeoutMs} ms`, { cause })
      throw new HttpCallError('broken-reply', `reply broken off (${String(cause)})`, { cause })
    }
  })
}

/**
 * The client for a component's options: their `fetch` when given, else undici's, which the
 * side-by-side bench row (`npm run bench -- relay client`) measured faster than the `node:http`
 * client on the relay's forwarding, and which brings the pool bound and `HTTPS_PROXY`.
 */
export const httpClientFor = (doFetch: typeof fetch | undefined): HttpClient =>
  doFetch ? fetchHttpClient(doFetch) : undiciHttpClient

/** Connections per origin: a notify storm to one merchant queues here instead of opening thousands of sockets. */
const POOL_CONNECTIONS = 32

/**
 * undici's `request` and the dispatcher of `undiciHttpClient`: a bounded keep-alive pool per origin,
 * or, when `HTTPS_PROXY`/`HTTP_PROXY` is set (`NO_PROXY` honoured), the same through the egress
 * proxy. undici is imported on the first call, not with the package: it is 110 CommonJS files
 * (1.1 MB), and loading it was the largest single part of the payment app's start (80 ms of a
 * 490 ms start in the bin's CPU profile, bench `startup`), before any call needs it.
 */
let undiciClient: Promise<{ request: typeof undiciRequest; dispatcher: Dispatcher }> | undefined
const loadUndici = () =>
  (undiciClient ??= import('undici').then(({ Agent, EnvHttpProxyAgent, request }) => {
    const env = process.env
    const proxied = Boolean(env['HTTPS_PROXY'] || env['https_proxy'] || env['HTTP_PROXY'] || env['http_proxy'])
    const dispatcher = proxied
      ? new EnvHttpProxyAgent({ connections: POOL_CONNECTIONS, keepAliveTimeout: 10_000 })
      : new Agent({ connections: POOL_CONNECTIONS, keepAliveTimeout: 10_000 })
    return { request, dispatcher }
  }))

/**
 * A client on undici's `request`: a whole-call timeout, a bounded pool, the reply-size cap, and the
 * egress proxy of `HTTPS_PROXY`. Its calls bypass Node's `http` module, so msw does not see them:
 * the unit tests' fault injection goes through `fetchHttpClient` instead.
 */
export const undiciHttpClient: HttpClient = observed(async (call) => {
  let url: URL
  try {
    url = new URL(call.url)
  } catch (cause) {
    throw new HttpCallError('unreachable', `not a URL: ${call.url}`, { cause })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new HttpCallError('unreachable', `not an http(s) URL: ${call.url}`)
  }
  // Loaded before the clock starts: the first call's timeout is for the call, not for loading undici.
  const undici = await loadUndici()
  const signal = timeoutSignal(call.timeoutMs)
  let reply: Dispatcher.ResponseData
  try {
    reply = await undici.request(url, {
      method: call.method,
      ...(call.headers ? { headers: call.headers } : {}),
      ...(call.body === undefined ? {} : { body: call.body }),
      dispatcher: undici.dispatcher,
      signal,
    })
  } catch (cause) {
    if (signal.aborted) throw new HttpCallError('timeout', `no reply within ${call.timeoutMs} ms`, { cause })
    throw new HttpCallError('unreachable', `cannot reach ${url.host} (${String(cause)})`, { cause })
  }
  const declared = Number(reply.headers['content-length'] ?? 0)
  if (declared > MAX_REPLY_BYTES) {
    reply.body.destroy()
    throw new HttpCallError('reply-too-large', `reply over ${MAX_REPLY_BYTES} bytes`)
  }
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of reply.body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_REPLY_BYTES) {
        reply.body.destroy()
        throw new HttpCallError('reply-too-large', `reply over ${MAX_REPLY_BYTES} bytes`)
      }
      chunks.push(chunk)
    }
  } catch (cause) {
    if (cause instanceof HttpCallError) throw cause
    if (signal.aborted) throw new HttpCallError('timeout', `no complete reply within ${call.timeoutMs} ms`, { cause })
    throw new HttpCallError('broken-reply', `reply broken off (${String(cause)})`, { cause })
  }
  return { status: reply.statusCode, text: Buffer.concat(chunks).toString('utf8') }
})
