import { onHttpCall } from '@alipay-payment-handler/gateway-client'
import { createServerMetrics, outboundCallMetrics, type ServerMetrics } from '@alipay-payment-handler/server-runtime'
import { Counter, Gauge } from 'prom-client'

/** What the metrics read from the store at each scrape (cheap counts, no history kept here). */
export interface PaymentAppMetricsSource {
  /** Sessions per status (created, at_cashier, paid, …). */
  sessionCounts(): Promise<Record<string, number>>
  /** Notifies waiting to be forwarded, and when the oldest of them arrived (ms since the epoch). */
  outbox(): Promise<{ depth: number; oldestReceivedAt: number | undefined }>
  now?: () => number
}

/** The payment app's Prometheus metrics; `GET /metrics` answers `respond()`. */
export interface PaymentAppMetrics extends ServerMetrics {
  /** A notify reached `/notify/*` (`received`), was verified and stored (`verified`). */
  notify(stage: 'received' | 'verified'): void
  /** The outbox's delivery outcomes. */
  delivery(outcome: 'forwarded' | 'failed'): void
  /** Stops watching outbound calls. */
  close(): void
}

const PREFIX = 'alipay_payment_app_'

/**
 * Request latency by route, sessions by state, notifies received/verified/forwarded/failed, the
 * outbox's depth and age, and the gateway's call latency and errors, all under `alipay_payment_app_`.
 */
export function createPaymentAppMetrics(source: PaymentAppMetricsSource): PaymentAppMetrics {
  const base = createServerMetrics({ prefix: PREFIX })
  const registers = [base.registry]
  const now = source.now ?? Date.now
  new Gauge({
    name: `${PREFIX}sessions`,
    help: 'Payment sessions in the store, by state.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const counts = await source.sessionCounts()
      this.reset()
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count)
    },
  })
  new Gauge({
    name: `${PREFIX}outbox_depth`,
    help: 'Notifies stored and not yet forwarded to the merchant.',
    registers,
    async collect() {
      this.set((await source.outbox()).depth)
    },
  })
  new Gauge({
    name: `${PREFIX}outbox_oldest_age_seconds`,
    help: 'Age of the oldest notify still waiting to be forwarded (0 when none waits).',
    registers,
    async collect() {
      const { oldestReceivedAt } = await source.outbox()
      this.set(oldestReceivedAt === undefined ? 0 : Math.max(0, (now() - oldestReceivedAt) / 1000))
    },
  })
  const notifies = new Counter({
    name: `${PREFIX}notifies_total`,
    help: 'Gateway notifies by stage: received, verified (stored), forwarded (merchant said success), failed (a delivery attempt).',
    labelNames: ['stage'] as const,
    registers,
  })
  for (const stage of ['received', 'verified', 'forwarded', 'failed']) notifies.inc({ stage }, 0)
  const unsubscribe = onHttpCall(outboundCallMetrics(base.registry, PREFIX))
  return {
    ...base,
    notify: (stage) => notifies.inc({ stage }),
    delivery: (outcome) => notifies.inc({ stage: outcome }),
    close: unsubscribe,
  }
}
