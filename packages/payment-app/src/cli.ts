#!/usr/bin/env node
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { createHandlerAssets } from '@alipay-payment-handler/handler'
import { ConfigError, readPartnerConfigs } from '@alipay-payment-handler/gateway-client'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import { createPolyfillAssets } from './polyfill-assets.js'
import { startSigningServer } from './signing-server.js'

// `alipay-payment-app`: the payment app as one process on one origin: the payment handler
// (manifests, service worker, checkout and return pages), the polyfill's files, the sessions API,
// the return landing and the notify endpoints. Flags win over the environment.
const USAGE = `Usage: alipay-payment-app [--port 4200] [--host 127.0.0.1] [--public-origin URL] [--gateway URL] [--db FILE]

Environment: PORT, HOST, PUBLIC_ORIGIN, ALIPAY_GATEWAY_URL, SIGNING_SERVER_DB, LOG_LEVEL, and the
partner: ALIPAY_PARTNER with ALIPAY_MD5_KEY or ALIPAY_PRIVATE_KEY(_FILE) + ALIPAY_GATEWAY_PUBLIC_KEY(_FILE),
ALIPAY_SIGN_TYPE, ALIPAY_ALLOWED_ORIGINS; or ALIPAY_GATEWAY_KIND=openapi with ALIPAY_APP_ID,
ALIPAY_APP_PRIVATE_KEY(_FILE), ALIPAY_PUBLIC_KEY(_FILE), ALIPAY_APP_SELLER_ID; or ALIPAY_PARTNERS_FILE.`

const fail = (message: string): never => {
  console.error(`[alipay-payment-app] ${message}`)
  process.exit(2)
}

let values: Record<string, string | boolean | undefined>
try {
  values = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'public-origin': { type: 'string' },
      gateway: { type: 'string' },
      db: { type: 'string' },
      help: { type: 'boolean' },
    },
  }).values
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`)
  throw error
}
if (values['help']) {
  console.log(USAGE)
  process.exit(0)
}

const env = process.env
const flag = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined)
const port = Number(flag('port') ?? env['PORT'] ?? 4200)
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`--port / PORT must be a port number, not "${flag('port') ?? env['PORT']}"`)
const gatewayUrl = flag('gateway') ?? env['ALIPAY_GATEWAY_URL']
if (!gatewayUrl) fail('set ALIPAY_GATEWAY_URL (or --gateway): the sandbox’s or Alipay’s gateway.do URL')
const dbPath = flag('db') ?? env['SIGNING_SERVER_DB'] ?? '.data/signing-server.db'
const logger = createLogger({ name: 'payment-app', level: env['LOG_LEVEL'] === 'debug' ? 'debug' : 'info' })

let partners
try {
  partners = readPartnerConfigs(env)
} catch (error) {
  if (error instanceof ConfigError) fail(error.message)
  throw error
}
if (partners.length === 0) fail('no partner configured: set ALIPAY_PARTNER (with its keys) or ALIPAY_PARTNERS_FILE')

try {
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true })
  const hostname = flag('host') ?? env['HOST'] ?? '127.0.0.1'
  const publicOrigin = flag('public-origin') ?? env['PUBLIC_ORIGIN'] ?? `http://localhost:${port}`
  const partnerGateways = partners.flatMap((p) => {
    const url = (p as { gatewayUrl?: unknown }).gatewayUrl
    return typeof url === 'string' ? [url] : []
  })
  const formTargets = [gatewayUrl!, ...partnerGateways]
  const running = await startSigningServer({
    port,
    hostname,
    publicOrigin,
    gatewayUrl: gatewayUrl!,
    partners,
    dbPath,
    handlerAssets: createHandlerAssets({ publicOrigin, formActionOrigins: formTargets.map((u) => new URL(u).origin) }),
    polyfillAssets: createPolyfillAssets(),
    logger,
  })
  console.log(`[alipay-payment-app] listening on ${running.url} (public origin ${publicOrigin})`)
  console.log(
    `[alipay-payment-app] payment method ${publicOrigin}/pay, polyfill ${publicOrigin}/polyfill/alipay-polyfill.js`,
  )
  const stop = () => void running.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  if (error instanceof ConfigError) fail(error.message)
  logger.error('server.start-failed', { error })
  process.exit(1)
}
