import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createHandlerAssets } from '@alipay-payment-handler/handler'
import { ConfigError } from '@alipay-payment-handler/gateway-client'
import { createLogger, isPostgresUrl } from '@alipay-payment-handler/server-runtime'
import { loadAppConfig, redactUrl } from './config.js'
import { openSessionStore } from './session-store.js'
import { createPolyfillAssets } from './polyfill-assets.js'
import { startSigningServer, type HandlerAssets } from './signing-server.js'

// `alipay-payment-app`: the payment app as one process on one origin: the payment handler
// (manifests, service worker, checkout and return pages), the polyfill's files, the sessions API,
// the return landing and the notify endpoints. The configuration (config.ts) is checked whole
// before anything starts; each problem is one line, and the exit status is 2. The bin runs this
// file bundled as CommonJS (bin.ts, code-cache.ts), which has no top-level await: hence main().
const PREFIX = '[alipay-payment-app]'

async function main(): Promise<void> {
  const result = await loadAppConfig(process.argv.slice(2), process.env)
  if (result.kind === 'help') {
    console.log(result.text)
    process.exit(0)
  }
  if (result.kind === 'invalid') {
    for (const problem of result.problems) console.error(`${PREFIX} ${problem}`)
    console.error(
      `${PREFIX} not started: ${result.problems.length} problem(s) in the configuration (--help lists the settings)`,
    )
    process.exit(2)
  }
  const { config, warnings } = result
  const logger = createLogger({ name: 'payment-app', level: config.logLevel })
  for (const warning of warnings) {
    console.error(`${PREFIX} WARNING ${warning}`)
    logger.warn('config.insecure-origin', { warning })
  }

  const onPostgres = isPostgresUrl(config.dbPath)
  if (config.migrateOnly) {
    // Migrations alone (a deploy step before the processes start); starting applies them too.
    try {
      if (onPostgres) {
        const { migrateSessionStore } = await import('./session-store-pg.js')
        const applied = await migrateSessionStore(config.dbPath)
        console.log(`${PREFIX} ${redactUrl(config.dbPath)}: ${applied} migration(s) applied`)
      } else {
        if (config.dbPath !== ':memory:') mkdirSync(dirname(config.dbPath), { recursive: true })
        const store = openSessionStore(config.dbPath)
        console.log(`${PREFIX} ${config.dbPath}: at schema version ${(await store.migrationStatus()).version}`)
        await store.close()
      }
      process.exit(0)
    } catch (error) {
      console.error(`${PREFIX} migrations failed: ${(error as Error).message}`)
      process.exit(1)
    }
  }

  try {
    if (!onPostgres && config.dbPath !== ':memory:') mkdirSync(dirname(config.dbPath), { recursive: true })
    const gateways = [config.gatewayUrl, ...config.partners.flatMap((p) => (p.gatewayUrl ? [p.gatewayUrl] : []))]
    const formActionOrigins = [...new Set(gateways.map((u) => new URL(u).origin))]
    // The handler's manifests name the public origin: unset, http://localhost:<port>, known only once
    // listening when the port is 0.
    let publicOrigin = config.publicOrigin ?? (config.port !== 0 ? `http://localhost:${config.port}` : undefined)
    let handler: HandlerAssets | undefined
    const handlerAssets: HandlerAssets = {
      fetch: (request) =>
        publicOrigin
          ? (handler ??= createHandlerAssets({ publicOrigin, formActionOrigins })).fetch(request)
          : new Response('starting', { status: 503, headers: { 'retry-after': '1' } }),
    }
    const running = await startSigningServer({
      port: config.port,
      hostname: config.host,
      ...(publicOrigin ? { publicOrigin } : {}),
      gatewayUrl: config.gatewayUrl,
      partners: config.partners,
      dbPath: config.dbPath,
      handlerAssets,
      polyfillAssets: createPolyfillAssets(),
      logger,
      trustedProxies: config.trustedProxies,
    })
    publicOrigin ??= running.url
    console.log(`${PREFIX} listening on ${running.url} (public origin ${publicOrigin})`)
    console.log(`${PREFIX} payment method ${publicOrigin}/pay, polyfill ${publicOrigin}/polyfill/alipay-polyfill.js`)

    // SIGTERM/SIGINT drain: no new connections, requests in flight finish (up to the deadline), exit 0.
    // A second signal stops at once.
    let stopping = false
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('server.shutdown-forced', { signal })
        process.exit(1)
      }
      stopping = true
      logger.info('server.draining', { signal, timeoutMs: config.shutdownTimeoutMs })
      running.shutdown(config.shutdownTimeoutMs).then(
        ({ drained, cut }) => {
          if (!drained) logger.warn('server.drain-deadline', { cut, timeoutMs: config.shutdownTimeoutMs })
          logger.info('server.stopped', { signal })
          process.exit(0)
        },
        (error: unknown) => {
          logger.error('server.shutdown-failed', { error })
          process.exit(1)
        },
      )
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  } catch (error) {
    // Checked by loadAppConfig already; kept for what only the registry sees.
    if (error instanceof ConfigError) {
      console.error(`${PREFIX} ${error.message}`)
      process.exit(2)
    }
    logger.error('server.start-failed', { error })
    console.error(`${PREFIX} not started: ${(error as Error).message}`)
    process.exit(1)
  }
}

main().catch((error: unknown) => {
  console.error(`${PREFIX} not started: ${(error as Error).message}`)
  process.exit(1)
})
