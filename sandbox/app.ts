import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { adminRoutes } from './admin'
import { cashierRoutes } from './cashier'
import type { SandboxDeps } from './deps'
import { handleGateway, refuseUnknown } from './gateway'

/**
 * The sandbox as a fetch handler: `/gateway.do`, the cashier, the phone page and `/_sandbox/*`.
 * Every failure becomes a gateway error code (HTML for browsers, XML otherwise), never a stack trace.
 */
export function createSandboxApp(deps: SandboxDeps): Hono {
  const app = new Hono()
  const tooLarge = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: (c) => refuseUnknown(c, deps, { code: 'ILLEGAL_ARGUMENT', field: 'request' }, 413),
  })
  app.use('*', tooLarge)
  app.on(['GET', 'POST'], '/gateway.do', (c) => handleGateway(c, deps))
  app.route('/', cashierRoutes(deps))
  app.route('/', adminRoutes(deps))
  app.get('/', (c) => c.redirect('/_sandbox/inspector', 302))
  app.notFound((c) => c.text('Not Found', 404))
  app.onError((error, c) => {
    deps.config.log(`[alipay-sandbox] ${c.req.method} ${new URL(c.req.url).pathname} failed: ${error.message}`)
    return refuseUnknown(c, deps, { code: 'SYSTEM_ERROR', field: 'request' }, 500)
  })
  return app
}
