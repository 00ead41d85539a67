/**
 * Chaos suite child: the demo merchant backend (order service on SQLite) on a fixed port and data
 * folder, so the suite can SIGKILL it and start it again on the same port and files.
 * Env: CHAOS_PORT, optional CHAOS_PUBLIC_ORIGIN (a proxy in front, as in tests/scale), CHAOS_DATA_DIR, optional CHAOS_DATABASE_URL, CHAOS_GATEWAY_URL.
 */
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startMerchant } from '@alipay-payment-handler/demo-shop/server/server'

const publicOrigin = process.env['CHAOS_PUBLIC_ORIGIN']
const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`[alipay-chaos] ${name} is not set`)
  return value
}

const merchant = await startMerchant({
  port: Number(env('CHAOS_PORT')),
  ...(publicOrigin ? { publicOrigin } : {}),
  appOrigin: 'http://localhost:1',
  gatewayUrl: env('CHAOS_GATEWAY_URL'),
  partner: demoPartnerConfig(),
  dataDir: env('CHAOS_DATA_DIR'),
  // A PostgreSQL database shared by several shops (tests/scale); unset, SQLite files in the folder.
  databaseUrl: process.env['CHAOS_DATABASE_URL'] || undefined,
  logger: silentLogger(),
  // A flash sale from one load generator: the per-client limits would throttle the test itself.
  rateLimits: false,
})
process.stdout.write(`READY ${merchant.url}\n`)
