import { createLogger } from './logger'
import { demoPartnerConfig } from './demo-config'
import { readPartnerConfigs } from './partners'
import { startSigningServer } from './signing-server'

// Entry point of `npm run server`: configuration from the environment, demo defaults otherwise.
const env = process.env
const logger = createLogger({ name: 'signing-server', level: env['LOG_LEVEL'] === 'debug' ? 'debug' : 'info' })
const configured = readPartnerConfigs(env)
const partners = configured.length > 0 ? configured : [demoPartnerConfig()]
if (configured.length === 0) logger.warn('config.demo-partner', { hint: 'set ALIPAY_PARTNER or ALIPAY_PARTNERS_FILE' })

try {
  const running = await startSigningServer({
    port: Number(env['PORT'] ?? 4200),
    hostname: env['HOST'] ?? '127.0.0.1',
    ...(env['PUBLIC_ORIGIN'] ? { publicOrigin: env['PUBLIC_ORIGIN'] } : {}),
    gatewayUrl: env['ALIPAY_GATEWAY_URL'] ?? 'http://localhost:4300/gateway.do',
    partners,
    dbPath: env['SIGNING_SERVER_DB'] ?? '.data/signing-server.db',
    logger,
  })
  logger.info('server.listening', { url: running.url })
  const stop = () => void running.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  logger.error('server.start-failed', { error })
  process.exit(1)
}
