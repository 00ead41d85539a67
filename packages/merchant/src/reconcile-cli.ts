import { parseArgs } from 'node:util'
import { createLogger, isPostgresUrl } from '@alipay-payment-handler/server-runtime'
import {
  createPaymentGateway,
  readOpenapiConfig,
  type GatewayConfig,
  ConfigError,
  createPartnerRegistry,
  readPartnerConfigs,
} from '@alipay-payment-handler/gateway-client'
import type { ReconcileReport } from './order-reconcile.js'
import { createOrderService } from './order-service.js'
import { openOrderStoreAt } from './order-store-open.js'
import { migrateOrderStore } from './order-store-pg.js'
import { openSqliteOrderStore } from './order-store.js'

/** Where the CLI writes; tests pass collectors. */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>
  stdout: (text: string) => void
  stderr: (text: string) => void
}

const USAGE = `Usage: npm run reconcile -- [--db path|URL] [--gateway URL] [--since ISO-date] [--limit n] [--json]
       npm run reconcile -- --migrate-only [--db path|URL]

Checks the orders of the order-service database against the gateway, repairs lost notifies and
closed trades, and reports what needs a human. Keys come from the same environment as the server
(mapi: ALIPAY_PARTNER, ALIPAY_MD5_KEY, … or ALIPAY_PARTNERS_FILE; openapi: ALIPAY_APP_ID,
ALIPAY_APP_PRIVATE_KEY(_FILE), ALIPAY_PUBLIC_KEY(_FILE)).
The database is --db, else MERCHANT_ORDERS_DB, else DATABASE_URL when it is a postgres:// URL, else
.data/merchant-orders.db. --migrate-only applies the order store's migrations and exits.
Exit status: 0 nothing left to do, 1 something needs a human or could not be checked, 2 usage.`

/** Default database: the demo shop's order store. */
const DEFAULT_DB = '.data/merchant-orders.db'
const DEFAULT_GATEWAY = 'http://localhost:4300/gateway.do'

function summary(report: ReconcileReport): string {
  const lines = [
    `reconciliation #${report.runId}: ${report.checked} checked since ${report.since}, ` +
      `${report.repaired.length} repaired, ${report.needsHuman.length} need a human, ${report.errors.length} failed`,
  ]
  for (const r of report.repaired) lines.push(`  repaired  ${r.orderId}  ${r.action}  ${r.from} → ${r.to}`)
  for (const n of report.needsHuman) lines.push(`  HUMAN     ${n.orderId}  ${n.reason}  ${n.message}`)
  for (const e of report.errors) lines.push(`  error     ${e.orderId}  ${e.code}`)
  if (report.truncated) lines.push(`  more orders: run again with --since ${report.nextSince}`)
  return lines.join('\n')
}

/** The mapi partner of the environment; none configured is a usage error, never a default key. */
async function mapiConfig(env: CliIo['env'], gatewayUrl: string): Promise<GatewayConfig> {
  const configured = readPartnerConfigs(env)
  if (configured.length === 0) {
    throw new ConfigError('no partner configured: set ALIPAY_PARTNER (with its keys) or ALIPAY_PARTNERS_FILE')
  }
  const registry = await createPartnerRegistry(configured)
  const info = registry.list()[0]
  if (!info) throw new ConfigError('no partner configured')
  return {
    kind: 'mapi',
    gatewayUrl,
    partner: info.partner,
    sellerId: info.sellerId,
    keys: registry.gatewayKeys(info.partner),
    signType: info.signType,
  }
}

/** `npm run reconcile`: one run, printed as JSON (`--json`) or as a summary. Returns the exit status. */
export async function reconcileCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        db: { type: 'string' },
        gateway: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
        'migrate-only': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (args.help) {
    io.stdout(USAGE)
    return 0
  }
  const limit = args.limit === undefined ? undefined : Number(args.limit)
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    io.stderr(`--limit must be a positive integer\n\n${USAGE}`)
    return 2
  }
  if (args.since !== undefined && !Number.isFinite(Date.parse(args.since))) {
    io.stderr(`--since must be an ISO 8601 date such as 2024-05-01T00:00:00Z\n\n${USAGE}`)
    return 2
  }
  const databaseUrl = io.env['DATABASE_URL']
  const location =
    args.db ?? io.env['MERCHANT_ORDERS_DB'] ?? (isPostgresUrl(databaseUrl) ? databaseUrl : undefined) ?? DEFAULT_DB
  if (args['migrate-only']) {
    if (isPostgresUrl(location)) {
      io.stdout(`${await migrateOrderStore(location)} migration(s) applied`)
    } else {
      const sqlite = openSqliteOrderStore(location)
      io.stdout(`at schema version ${(await sqlite.migrationStatus()).version}`)
      await sqlite.close()
    }
    return 0
  }
  const logger = createLogger({ name: 'reconcile', level: 'warn', write: (line) => io.stderr(line) })
  let store
  try {
    const gatewayUrl = args.gateway ?? io.env['ALIPAY_GATEWAY_URL'] ?? DEFAULT_GATEWAY
    const config: GatewayConfig = readOpenapiConfig(io.env, gatewayUrl) ?? (await mapiConfig(io.env, gatewayUrl))
    store = await openOrderStoreAt(location)
    const orders = createOrderService({
      store,
      gateway: createPaymentGateway(config),
      // Reconciliation sends no pay requests; the notify URL is never used here.
      notifyUrl: 'http://localhost/notify',
      logger,
    })
    const report = await orders.reconcile({
      trigger: 'cli',
      ...(args.since ? { since: args.since } : {}),
      ...(limit ? { limit } : {}),
    })
    io.stdout(args.json ? JSON.stringify(report, null, 2) : summary(report))
    return report.needsHuman.length > 0 || report.errors.length > 0 ? 1 : 0
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TypeError) {
      io.stderr(error.message)
      return 2
    }
    throw error
  } finally {
    await store?.close()
  }
}
