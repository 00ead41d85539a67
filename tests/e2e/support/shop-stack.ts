import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import type { GatewayKind } from '@alipay-payment-handler/gateway-client'
import { buildBrowserParts } from '@alipay-payment-handler/dev-stack/build-browser'
import { startStack, type RunningStack } from '@alipay-payment-handler/dev-stack/stack'

/** Ports of the shop journeys: the whole `npm start` stack, on ports of its own. */
export const SHOP_PORTS = {
  merchant: Number(process.env['E2E_SHOP_MERCHANT_PORT'] ?? 4461),
  app: Number(process.env['E2E_SHOP_APP_PORT'] ?? 4462),
  gateway: Number(process.env['E2E_SHOP_GATEWAY_PORT'] ?? 4463),
}
export const SHOP_ORIGIN = `http://localhost:${SHOP_PORTS.merchant}`
export const SHOP_APP_ORIGIN = `http://localhost:${SHOP_PORTS.app}`
export const SHOP_GATEWAY_ORIGIN = `http://localhost:${SHOP_PORTS.gateway}`

const debug = process.env['E2E_DEBUG'] === '1'

/**
 * The gateways the shop journeys run on, each through the same specs: mapi (the demo partner) and
 * openapi (the sandbox's DEMO_APP). `E2E_GATEWAY_KINDS=openapi` runs one only.
 */
export const GATEWAY_KINDS: readonly GatewayKind[] = (process.env['E2E_GATEWAY_KINDS'] ?? 'mapi,openapi')
  .split(',')
  .map((kind) => kind.trim())
  .filter((kind): kind is GatewayKind => kind === 'mapi' || kind === 'openapi')

/** A running stack plus its data folder, which outlives a restart. */
export interface ShopStack {
  running: RunningStack
  dataDir: string
  /** Stops all three servers and starts them again on the same data (the restart journey). */
  restart(): Promise<void>
  /** Stops all three servers; `start()` brings them back on the same data. */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

/**
 * Builds the browser parts (skipped when current) and starts exactly what `npm start` starts,
 * through the same startStack, on the test ports and a fresh data folder. Background loops run
 * faster than in production so notifies and polls land within a test's time.
 */
export async function startShopStack(options: { gatewayKind?: GatewayKind } = {}): Promise<ShopStack> {
  await buildBrowserParts()
  const dataDir = mkdtempSync(join(tmpdir(), 'alipay-shop-e2e-'))
  const logger = createLogger({
    name: 'shop-e2e',
    level: debug ? 'debug' : 'error',
    write: (line) => console.error(line),
  })
  const start = () =>
    startStack({
      ports: SHOP_PORTS,
      dataDir,
      logger,
      gatewayKind: options.gatewayKind,
      sandbox: { log: debug ? (line) => console.error(line) : () => undefined },
      signing: { pollIntervalMs: 1_000, outboxIntervalMs: 250, rateLimits: false },
    })
  const stack: ShopStack = {
    running: await start(),
    dataDir,
    async restart() {
      await stack.running.close()
      stack.running = await start()
    },
    stop: () => stack.running.close(),
    async start() {
      stack.running = await start()
    },
    async close() {
      await stack.running.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return stack
}
