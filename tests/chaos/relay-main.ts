/**
 * Chaos suite child: the signing server (notify relay with its SQLite outbox) on a fixed port and
 * database, so the suite can SIGKILL it and start it again on the same port and file.
 * Env: CHAOS_PORT, optional CHAOS_PUBLIC_ORIGIN (a proxy in front, as in tests/scale), CHAOS_DB or CHAOS_DATABASE_URL, CHAOS_GATEWAY_URL, CHAOS_MERCHANT_ORIGIN.
 */
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer } from '@alipay-payment-handler/payment-app'

const publicOrigin = process.env['CHAOS_PUBLIC_ORIGIN']
const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`[alipay-chaos] ${name} is not set`)
  return value
}

const server = await startSigningServer({
  port: Number(env('CHAOS_PORT')),
  ...(publicOrigin ? { publicOrigin } : {}),
  gatewayUrl: env('CHAOS_GATEWAY_URL'),
  partners: [demoPartnerConfig({ allowedOrigins: [env('CHAOS_MERCHANT_ORIGIN')] })],
  // A PostgreSQL database shared by several relays (tests/scale), else the SQLite file.
  dbPath: process.env['CHAOS_DATABASE_URL'] || env('CHAOS_DB'),
  logger: silentLogger(),
  pollIntervalMs: 1_000,
  outboxIntervalMs: 50,
  // Short, growing gaps: a merchant that is down for seconds is reached again within seconds.
  retryGapsMs: [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000],
  rateLimits: false,
  gatewayTimeoutMs: 5_000,
})
process.stdout.write(`READY ${server.url}\n`)
