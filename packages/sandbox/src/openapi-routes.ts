import { Hono } from 'hono'
import { parseBeijingTime } from '@alipay-payment-handler/protocol'
import type { SandboxDeps } from './deps.js'
import { handleOpenapi, timeoutMs } from './openapi-gateway.js'
import { isOpenapiRequest } from './openapi-request.js'
import { failure, openapiReply } from './openapi-reply.js'

/**
 * The openapi mode's own routes: `/openapi/gateway.do` (openapi only; a mapi request there is
 * `40001 isv.missing-method`) and `/qr/:token`, the page a precreate `qr_code` points at.
 */
export function openapiRoutes(deps: SandboxDeps): Hono {
  const app = new Hono()

  app.on(['GET', 'POST'], '/openapi/gateway.do', async (c) => {
    if (!(await isOpenapiRequest(c)))
      return openapiReply(deps, undefined, { failure: failure('40001', 'isv.missing-method', '缺少方法名参数') })
    return handleOpenapi(c, deps)
  })

  // Opening the code as the test payer is the scan: the trade comes to exist now, and its
  // timeout_express starts counting (openapi-protocol §10.4). Then the buyer's phone page takes over.
  app.get('/qr/:token', (c) => {
    const token = c.req.param('token')
    const found = /^[0-9a-f]{32}$/.test(token) ? deps.store.tradeByCashierToken(token) : undefined
    if (found && found.visibleAt === null && found.status === 'WAIT_BUYER_PAY') {
      const now = deps.clock.now()
      const limit = found.itBPay
      const expiresAt = !limit
        ? null
        : (parseBeijingTime(limit)?.getTime() ?? now + (timeoutMs(limit, now) ?? 0) * deps.config.timeScale)
      deps.store.updateTrade(found.tradeNo, { visibleAt: now, expiresAt, modifiedAt: now })
      deps.scheduler.wake()
    }
    return c.redirect(`/phone/scan?code=${encodeURIComponent(token)}`, 302)
  })

  return app
}

/** Whether a `/gateway.do` request goes to the openapi mode (`method` + `app_id`, no `service`). */
export { isOpenapiRequest }
