import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createHandlerAssets } from '@alipay-payment-handler/handler'
import { createLogger, type Logger } from '@alipay-payment-handler/server-runtime'
import { demoOpenapiPartnerConfig, demoPartnerConfig } from './demo-config.js'
import type { GatewayKind, PartnerConfig } from '@alipay-payment-handler/gateway-client'
import { startSigningServer, type SigningServerConfig } from '@alipay-payment-handler/payment-app'
import { startMerchant } from '@alipay-payment-handler/demo-shop/server/server'
import { DEMO_BUYER } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type SandboxConfig } from '@alipay-payment-handler/sandbox'
import { BUILD_DIRS } from './build-browser.js'
import { assertPortFree } from './ports.js'

/** The default ports of `npm start` (see the root README.md). */
export const DEFAULT_PORTS = { merchant: 4100, app: 4200, gateway: 4300 } as const

/** How to reach the real gateway instead of the sandbox. */
export interface RealGateway {
  /** e.g. https://mapi.alipay.com/gateway.do */
  gatewayUrl: string
  /** The merchant's partner, keys included (gateway-client's PartnerConfig). */
  partner: PartnerConfig
}

/** Everything `startStack` needs; all but `dataDir` have defaults. */
export interface StackOptions {
  ports?: Partial<Record<keyof typeof DEFAULT_PORTS, number>>
  /** SQLite files of all three servers go here (default .data/). */
  dataDir?: string
  /**
   * A `postgres://` URL: the payment app's sessions and the shop's orders live there instead of
   * SQLite files (the sandbox keeps its own file). Both migrate their tables at start.
   */
  databaseUrl?: string | undefined
  /** Public origins when the servers sit behind a proxy (the real gateway must reach notify URLs). */
  merchantOrigin?: string | undefined
  appOrigin?: string | undefined
  /** Set to use the real gateway; the sandbox is not started then. */
  real?: RealGateway | undefined
  /** The sandbox's demo partner: mapi (default) or the openapi DEMO_APP. Ignored with `real`. */
  gatewayKind?: GatewayKind | undefined
  /** Overrides for the sandbox (e.g. a faster `timeScale` in tests). */
  sandbox?: Partial<SandboxConfig> | undefined
  /** Overrides for the signing server (e.g. shorter poll and retry gaps in tests). */
  signing?: Partial<Omit<SigningServerConfig, 'partners' | 'gatewayUrl' | 'dbPath' | 'port'>> | undefined
  /** How long a shop order stays payable. */
  orderTtlMs?: number | undefined
  /** The shop's operator token; a random one per start when unset. */
  operatorToken?: string | undefined
  /** The buyers' order-view token secret (shops on several hosts share one); unset, one in `dataDir`. */
  orderViewSecret?: string | undefined
  /** The shop's per-client rate limits; false turns them off (a benchmark is one client). */
  merchantRateLimits?: false | undefined
  logger?: Logger | undefined
}

/** The three running servers. */
export interface RunningStack {
  urls: { merchant: string; app: string; gateway: string }
  /** The demo shop's operator token (its orders page, refunds, reconciliation). */
  operatorToken: string
  /** The sandbox's test buyer; undefined against the real gateway. */
  buyer: { login: string; password: string } | undefined
  /** Stops merchant, payment app and sandbox, in that order; safe to call twice. */
  close(): Promise<void>
}

/** Fails with PortInUseError (one clear line) when a port the stack needs is taken. */
export async function checkStackPorts(options: Pick<StackOptions, 'ports' | 'real'> = {}): Promise<void> {
  const ports = { ...DEFAULT_PORTS, ...options.ports }
  await assertPortFree(ports.merchant, 'demo merchant')
  await assertPortFree(ports.app, 'payment app')
  if (!options.real) await assertPortFree(ports.gateway, 'gateway sandbox')
}

/**
 * Starts the gateway sandbox (unless `real` is set), the signing server with the payment
 * handler's pages, and the demo merchant: the whole kit on its three origins. Ports are checked
 * first, so a clash fails before anything starts; a later failure stops what already started.
 * The browser bundles must be built (scripts/build-browser.ts).
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...options.ports }
  const dataDir = resolve(options.dataDir ?? '.data')
  const logger = options.logger ?? createLogger({ name: 'stack' })
  mkdirSync(dataDir, { recursive: true })

  await checkStackPorts(options)

  const merchantOrigin = options.merchantOrigin ?? `http://localhost:${ports.merchant}`
  const appOrigin = options.appOrigin ?? `http://localhost:${ports.app}`
  const gatewayUrl = options.real?.gatewayUrl ?? `http://localhost:${ports.gateway}/gateway.do`
  // One partner for both: the payment app holds the merchant's partner keys (mapi-protocol §1.1).
  const demoPartner = options.gatewayKind === 'openapi' ? demoOpenapiPartnerConfig : demoPartnerConfig
  const partner: PartnerConfig = options.real?.partner ?? demoPartner({ allowedOrigins: [merchantOrigin] })

  const started: { close(): Promise<void> }[] = []
  const closeAll = async () => {
    for (const server of started.reverse()) await server.close().catch(() => undefined)
    started.length = 0
  }
  try {
    if (!options.real) {
      started.push(
        await startSandbox(
          demoSandboxConfig({
            port: ports.gateway,
            dbPath: join(dataDir, 'sandbox.db'),
            log: (line) => logger.info('sandbox', { line }),
            ...options.sandbox,
          }),
        ),
      )
    }
    const app = await startSigningServer({
      port: ports.app,
      publicOrigin: appOrigin,
      gatewayUrl,
      partners: [partner],
      dbPath: options.databaseUrl ?? join(dataDir, 'signing-server.db'),
      handlerAssets: createHandlerAssets({
        publicOrigin: appOrigin,
        distDir: BUILD_DIRS.handler,
        formActionOrigins: [new URL(gatewayUrl).origin],
      }),
      logger,
      ...options.signing,
    })
    started.push(app)
    const merchant = await startMerchant({
      port: ports.merchant,
      publicOrigin: merchantOrigin,
      appOrigin,
      gatewayUrl,
      partner,
      dataDir,
      databaseUrl: options.databaseUrl,
      publicDir: BUILD_DIRS.shop,
      sandbox: options.real ? false : { login: DEMO_BUYER.login, password: DEMO_BUYER.password },
      orderTtlMs: options.orderTtlMs,
      operatorToken: options.operatorToken,
      orderViewSecret: options.orderViewSecret,
      ...(options.merchantRateLimits === false ? { rateLimits: false } : {}),
      logger,
    })
    started.push(merchant)
    return {
      urls: { merchant: merchantOrigin, app: appOrigin, gateway: new URL(gatewayUrl).origin },
      operatorToken: merchant.operatorToken,
      buyer: options.real ? undefined : { login: DEMO_BUYER.login, password: DEMO_BUYER.password },
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}
