import { serve, type HttpBindings, type Http2Bindings } from '@hono/node-server'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@alipay-payment-handler/server-runtime'
import { createSigningServer } from '@alipay-payment-handler/payment-app'
import { buildHandler } from '@alipay-payment-handler/handler/build'
import { createHandlerAssets } from '@alipay-payment-handler/handler'
import { DEMO_GATEWAY_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox } from '@alipay-payment-handler/sandbox'
import {
  HANDLER_APP_ORIGIN,
  HANDLER_APP_PORT,
  HANDLER_GATEWAY_PORT,
  HANDLER_MERCHANT_PORT,
  HANDLER_METHOD,
} from './handler-origins.js'
import { startTestMerchant, type TestOrder } from './test-merchant.js'

/** The three origins of a native-path payment, running in the test process. */
export interface HandlerStack {
  merchantOrigin: string
  appOrigin: string
  method: string
  orders: Map<string, TestOrder>
  /**
   * Makes the signing server's API unreachable (connections to /api/* are dropped) while the
   * handler's files stay served: the worker is already installed when a real server dies.
   */
  setApiDown(down: boolean): void
  /**
   * Holds every `POST /api/sessions` until the returned function is called: the checkout window
   * stays on its first screen meanwhile, which it otherwise leaves for the cashier at once.
   */
  holdSessionCreation(): () => void
  /** The signing server's view of a session, as the API gives it. */
  session(sessionId: string): Promise<{ status: string; outcome?: unknown }>
  /** The ids of an order's sessions, oldest first, read from the signing server's database. */
  sessionIdsOf(orderId: string): string[]
  close(): Promise<void>
}

const debug = process.env['E2E_DEBUG'] === '1'

/**
 * Builds the handler with Vite, then starts the gateway sandbox, the signing server with the
 * handler assets mounted, and the test merchant. The signing server gets its own listener (not
 * startSigningServer) so a test can cut its API off without taking the handler's files down.
 */
export async function startHandlerStack(): Promise<HandlerStack> {
  const workDir = mkdtempSync(join(tmpdir(), 'alipay-handler-e2e-'))
  const distDir = await buildHandler(join(workDir, 'dist'))
  const closers: (() => Promise<void>)[] = []
  try {
    const sandbox = await startSandbox(
      demoSandboxConfig({ port: HANDLER_GATEWAY_PORT, log: debug ? (line) => console.error(line) : () => undefined }),
    )
    closers.push(() => sandbox.close())

    const merchant = await startTestMerchant(HANDLER_MERCHANT_PORT, HANDLER_METHOD)
    closers.push(() => merchant.close())

    const signing = await createSigningServer({
      publicOrigin: HANDLER_APP_ORIGIN,
      gatewayUrl: sandbox.gatewayUrl,
      partners: [
        {
          partner: DEMO_PARTNER.partner,
          sellerId: DEMO_PARTNER.sellerId,
          md5Key: DEMO_PARTNER.md5Key,
          gatewayPublicKey: DEMO_GATEWAY_RSA.publicKey,
          signType: 'MD5',
          allowedOrigins: [merchant.origin],
        },
      ],
      dbPath: join(workDir, 'signing.db'),
      handlerAssets: createHandlerAssets({ publicOrigin: HANDLER_APP_ORIGIN, distDir }),
      logger: createLogger({ level: debug ? 'debug' : 'error' }),
      pollIntervalMs: 1_000,
      outboxIntervalMs: 250,
      rateLimits: false,
    })
    closers.push(() => signing.close())
    signing.startBackground()

    let apiDown = false
    let held: Promise<void> | undefined
    const listener = serve({
      port: HANDLER_APP_PORT,
      hostname: '127.0.0.1',
      overrideGlobalObjects: false,
      fetch: async (request: Request, env: HttpBindings | Http2Bindings) => {
        if (apiDown && new URL(request.url).pathname.startsWith('/api/')) {
          // A dead server: the connection goes away without an answer (a network error in fetch).
          env.incoming.socket.destroy()
          return new Response(null, { status: 503 })
        }
        if (held && request.method === 'POST' && new URL(request.url).pathname === '/api/sessions') await held
        return signing.app.fetch(request)
      },
    })
    await new Promise<void>((resolve, reject) => {
      listener.once('listening', () => resolve())
      listener.once('error', reject)
    })
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          ;(listener as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
          listener.close(() => resolve())
        }),
    )

    return {
      merchantOrigin: merchant.origin,
      appOrigin: HANDLER_APP_ORIGIN,
      method: HANDLER_METHOD,
      orders: merchant.orders,
      setApiDown: (down) => void (apiDown = down),
      holdSessionCreation() {
        let release = () => undefined as void
        held = new Promise<void>((resolve) => (release = resolve))
        return () => {
          held = undefined
          release()
        }
      },
      async session(sessionId) {
        const response = await signing.app.fetch(new Request(`${HANDLER_APP_ORIGIN}/api/sessions/${sessionId}`))
        return (await response.json()) as { status: string; outcome?: unknown }
      },
      sessionIdsOf(orderId) {
        const db = new Database(join(workDir, 'signing.db'), { readonly: true, fileMustExist: true })
        try {
          const rows = db
            .prepare('SELECT id FROM sessions WHERE out_trade_no = ? ORDER BY created_at')
            .all(orderId) as { id: string }[]
          return rows.map((row) => row.id)
        } finally {
          db.close()
        }
      },
      async close() {
        for (const close of closers.reverse()) await close().catch(() => undefined)
        rmSync(workDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined)
    rmSync(workDir, { recursive: true, force: true })
    throw error
  }
}
