import { isPaidStatus } from '@alipay-payment-handler/protocol'
import { OPEN_STATUSES } from './session-store.js'
import { createSessionContext, problem, safeEqualAmounts } from './session-context.js'
import { cancelUseCase } from './session-cancel.js'
import { createUseCase } from './session-create.js'
import { pollUseCase } from './session-poll.js'
import { returnUseCase } from './session-return.js'

import type { SessionService, SessionServiceDeps } from './session-types.js'

export * from './session-types.js'

/**
 * Creates the session service: one module per use case (session-create, session-return,
 * session-cancel, session-poll) on one shared context (session-context).
 */
export function createSessionService(deps: SessionServiceDeps): SessionService {
  const ctx = createSessionContext(deps)
  const { mustGet, toView, paidOutcome } = ctx
  return {
    ...createUseCase(ctx),
    ...returnUseCase(ctx),
    ...cancelUseCase(ctx),
    ...pollUseCase(ctx),
    view: async (id) => toView(await mustGet(id)),
    async waitView(id, waitMs, known, signal) {
      const start = await mustGet(id)
      const baseline = known ?? start.status
      if (start.status !== baseline || waitMs <= 0) return toView(start)
      const deadline = Date.now() + waitMs
      for (;;) {
        const left = deadline - Date.now()
        if (left <= 0 || signal?.aborted) break
        // Another process may settle the session (a shared PostgreSQL store): its change wakes
        // nobody here, so a long poll then also reads the store again every so often.
        await deps.events.waitForChange(id, Math.min(left, deps.recheckMs ?? left), signal)
        const current = await mustGet(id)
        if (current.status !== baseline) return toView(current)
      }
      return toView(await mustGet(id))
    },
    async cashierRequest(id) {
      const session = await mustGet(id)
      if (!OPEN_STATUSES.includes(session.status)) {
        throw problem(409, 'session-closed', `Session ${id} is ${session.status}; start a new payment.`)
      }
      return { gatewayUrl: deps.gateway(session.partner).gatewayUrl, fields: session.request }
    },
    notifySettlement(session, params) {
      if (!isPaidStatus(params['trade_status'])) return undefined
      const gateway = deps.gateway(session.partner)
      if (!safeEqualAmounts(gateway.amountOf(params) ?? '', session.totalFee)) return undefined
      return { sessionId: session.id, outcome: paidOutcome(session, params), tradeNo: params['trade_no'] }
    },
    announceSettled(sessionId, settled) {
      if (settled === undefined) return
      // `outcome`: paid by the poller before its notify arrived, the signed set filled in now.
      if (settled === 'status') ctx.log.info('session.settled', { sessionId, status: 'paid' })
      deps.events.changed(sessionId)
    },
  }
}
