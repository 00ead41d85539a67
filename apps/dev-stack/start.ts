import { createLogger } from '@alipay-payment-handler/server-runtime'
import { buildBrowserParts } from './build-browser.js'
import { isAddressInUse } from './ports.js'
import { checkStackPorts, startStack, type RunningStack } from './stack.js'
import { StartConfigError, readStartConfig } from './start-config.js'

// `npm start`: build what is stale, start the three servers, print where they are, stop on Ctrl-C.
// (scripts/ensure-deps.mjs has already installed the packages.)
const say = (line: string) => console.log(line)

/** One line for the errors a newcomer can fix; a stack trace only for real bugs. */
function fail(error: unknown): never {
  if (error instanceof StartConfigError || isAddressInUse(error)) {
    console.error(
      (error as Error).message.startsWith('[alipay]') ? (error as Error).message : `[alipay] ${String(error)}`,
    )
  } else if ((error as { code?: unknown }).code === 'CONFIG_INVALID') {
    console.error((error as Error).message)
  } else {
    console.error('[alipay] npm start failed:', error)
  }
  process.exit(1)
}

let stack: RunningStack | undefined
let keptIn = '.data/'
let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) {
    say('[alipay] Stopping at once.')
    process.exit(1)
  }
  stopping = true
  say(`\n[alipay] ${signal}: stopping the shop, the payment app and the sandbox…`)
  await stack?.close()
  say(`[alipay] Stopped. Orders and payments are kept in ${keptIn} for next time.`)
  process.exit(0)
}
process.on('SIGINT', () => void stop('Ctrl-C'))
process.on('SIGTERM', () => void stop('SIGTERM'))

try {
  const options = readStartConfig(process.env)
  keptIn = options.databaseUrl ? 'PostgreSQL' : `${options.dataDir ?? '.data'}/`
  await checkStackPorts(options)
  say('[alipay] Building the payment handler and the shop pages…')
  const build = await buildBrowserParts()
  say(build === 'fresh' ? '[alipay] Pages are up to date.' : '[alipay] Built into dist/.')
  const level =
    process.env['LOG_LEVEL'] === 'debug' || process.env['LOG_LEVEL'] === 'info' ? process.env['LOG_LEVEL'] : 'warn'
  stack = await startStack({ ...options, logger: createLogger({ name: 'npm-start', level }) })
  if (stopping) await stack.close()
  const { urls, buyer } = stack
  say('')
  say('  Alipay Payment Request demo is running')
  say('')
  say(`  Shop (merchant)         ${urls.merchant}/   ← open this`)
  say(`  Orders (merchant view)  ${urls.merchant}/orders.html`)
  say(`  Payment app             ${urls.app}/pay`)
  say(
    `  Gateway                 ${options.real ? `${options.real.gatewayUrl} (REAL Alipay)` : `${urls.gateway}/gateway.do (sandbox)`}`,
  )
  if (buyer) {
    say('')
    say(`  Test buyer              login ${buyer.login}   password ${buyer.password}`)
  }
  say('')
  say('  Press Ctrl-C to stop.')
  say('')
} catch (error) {
  fail(error)
}
