import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Seconds buckets for in-process answers and gateway round trips alike (5 ms … 30 s). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The Prometheus registry of one server, with its HTTP request metrics. */
export interface ServerMetrics {
  registry: Registry
  /** Times every request by method, route pattern (never the raw path) and status. */
  middleware: MiddlewareHandler
  /** The text exposition for `GET /metrics`. */
  respond(): Promise<Response>
}

/**
 * A registry for one server (`prefix` e.g. `alipay_payment_app_`): the process's default metrics
 * and `<prefix>http_request_duration_seconds{method,route,status}`. Each server has its own
 * registry, so two servers in one process (tests, the dev stack) never mix their series.
 */
export function createServerMetrics(options: { prefix: string; defaultMetrics?: boolean }): ServerMetrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: options.prefix })
  const requests = new Histogram({
    name: `${options.prefix}http_request_duration_seconds`,
    help: 'Time to answer HTTP requests, by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  return {
    registry,
    middleware: async (c, next) => {
      const stop = requests.startTimer()
      try {
        await next()
      } finally {
        // The pattern that answered (`/api/sessions/:id`); unmatched paths share one label.
        const route = routePath(c) || 'unmatched'
        stop({ method: c.req.method, route: route.endsWith('*') ? 'unmatched' : route, status: String(c.res.status) })
      }
    },
    async respond() {
      return new Response(await registry.metrics(), {
        headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
      })
    },
  }
}

/** One outbound call, as gateway-client's `onHttpCall` reports it (structurally, to keep the packages apart). */
export interface OutboundCall {
  purpose: string
  origin: string
  outcome: string
  seconds: number
}

/**
 * `<prefix>outbound_call_duration_seconds{purpose,origin,outcome}` and
 * `<prefix>outbound_call_errors_total{purpose,origin,outcome}`: the gateway's (and the merchants'
 * notify URLs') latency and failures. Feed it from `onHttpCall`; answers the observer.
 */
export function outboundCallMetrics(registry: Registry, prefix: string): (call: OutboundCall) => void {
  const labelNames = ['purpose', 'origin', 'outcome'] as const
  const duration = new Histogram({
    name: `${prefix}outbound_call_duration_seconds`,
    help: 'Time of outbound HTTP calls (gateway API calls, forwarded notifies), by outcome.',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  })
  const errors = new Counter({
    name: `${prefix}outbound_call_errors_total`,
    help: 'Outbound HTTP calls that got no complete reply (timeout, unreachable, broken or oversized reply).',
    labelNames,
    registers: [registry],
  })
  return (call) => {
    const labels = { purpose: call.purpose, origin: call.origin, outcome: call.outcome }
    duration.observe(labels, call.seconds)
    if (call.outcome !== 'ok') errors.inc(labels)
  }
}
