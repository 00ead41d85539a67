import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { adminRoutes } from './admin.js'
import { appPayRoutes } from './app-pay-page.js'
import { cashierRoutes } from './cashier.js'
import type { SandboxDeps } from './deps.js'
import { handleGateway, refuseUnknown } from './gateway.js'
import { handleOpenapi } from './openapi-gateway.js'
import { isOpenapiRequest, openapiRoutes } from './openapi-routes.js'
import { statementRoutes } from './statements.js'
import { requestLogOf } from './request-log.js'

/**
 * The sandbox as a fetch handler: `/gateway.do` (mapi and openapi), the cashier, the phone page and `/_sandbox/*`.
 * Every failure becomes a gateway error code (HTML for browsers, XML otherwise), never a stack trace.
 */
export function createSandboxApp(deps: SandboxDeps): Hono {
  const app = new Hono()
  const tooLarge = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: (c) => refuseUnknown(c, deps, { code: 'ILLEGAL_ARGUMENT', field: 'request' }, 413),
  })
  app.use('*', tooLarge)
  // Every gateway call goes to the inspector's log, with its parameters and the answer.
  app.use('/gateway.do', requestLogOf(deps).middleware())
  // One endpoint, two gateways: `method` + `app_id` is Alipay's current openapi, `service` is mapi.
  app.on(['GET', 'POST'], '/gateway.do', async (c) =>
    (await isOpenapiRequest(c)) ? handleOpenapi(c, deps) : handleGateway(c, deps),
  )
  app.route('/', openapiRoutes(deps))
  app.route('/', statementRoutes(deps))
  app.route('/', cashierRoutes(deps))
  app.route('/', appPayRoutes(deps))
  app.route('/', adminRoutes(deps))
  app.get('/', (c) => c.redirect('/_sandbox/inspector', 302))
  app.notFound((c) => c.text('Not Found', 404))
  app.onError((error, c) => {
    deps.config.log(`[alipay-sandbox] ${c.req.method} ${new URL(c.req.url).pathname} failed: ${error.message}`)
    return refuseUnknown(c, deps, { code: 'SYSTEM_ERROR', field: 'request' }, 500)
  })
  return app
}
