import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import { readPartnerConfigs, type PartnerConfig } from '@alipay-payment-handler/gateway-client'
import { SHOP_BUILD_DIR } from '../build.js'
import { startMerchant } from './server.js'

// The demo merchant alone (`tsx demo-merchant/server/main.ts`), for running it next to a payment
// app and a gateway started elsewhere. `npm start` starts all three through scripts/stack.ts.
const env = process.env
const logger = createLogger({ name: 'demo-merchant', level: env['LOG_LEVEL'] === 'debug' ? 'debug' : 'info' })
const configured = readPartnerConfigs(env) as PartnerConfig[]
const gatewayUrl = env['ALIPAY_GATEWAY_URL'] ?? 'http://localhost:4300/gateway.do'
const sandbox = !env['ALIPAY_GATEWAY_URL']

try {
  const running = await startMerchant({
    port: Number(env['PORT'] ?? 4100),
    hostname: env['HOST'] ?? '127.0.0.1',
    publicOrigin: env['MERCHANT_ORIGIN'] || undefined,
    appOrigin: env['APP_ORIGIN'] ?? 'http://localhost:4200',
    gatewayUrl,
    partner: configured[0] ?? demoPartnerConfig(),
    dataDir: env['DATA_DIR'] ?? '.data',
    databaseUrl: env['DATABASE_URL'] || undefined,
    publicDir: SHOP_BUILD_DIR,
    sandbox: sandbox ? { login: DEMO_BUYER.login, password: DEMO_BUYER.password } : false,
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
