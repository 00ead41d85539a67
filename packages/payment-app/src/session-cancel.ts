import { GatewayError } from '@alipay-payment-handler/gateway-client'
import { OPEN_STATUSES } from './session-store.js'
import type { SessionContext } from './session-context.js'
import type { CancelReason, SessionService, SessionView } from './session-types.js'

/** Cancelling a session: close its trade at the gateway, or leave it to the poller when that is refused. */
export function cancelUseCase(ctx: SessionContext): Pick<SessionService, 'cancel'> {
  const { deps, now, pollEvery, log, mustGet, toView, settle } = ctx

  async function cancel(id: string, reason: CancelReason): Promise<SessionView> {
    const session = await mustGet(id)
    if (!OPEN_STATUSES.includes(session.status)) return toView(session)
    if (reason === 'window-closed') {
      // The buyer may have paid a moment before closing: let the poller find out, every 5 s.
      await deps.store.updateSession(id, { windowClosed: true, nextPollAt: now() }, OPEN_STATUSES)
      return toView(await mustGet(id))
    }
    const gateway = deps.gateway(session.partner)
    try {
      const closed = await gateway.closeTrade({ tradeNo: session.tradeNo, outTradeNo: session.outTradeNo })
      if (closed.closed || closed.error === 'TRADE_NOT_EXIST') {
        const status = reason === 'aborted' ? 'aborted' : 'cancelled'
        await settle(id, status, { kind: 'cancelled', reason: 'buyer' })
      } else {
        // Not closable: most likely paid meanwhile. The poller settles it from the gateway.
        log.info('session.cancel-refused', { sessionId: id, gatewayCode: closed.error })
        await deps.store.updateSession(id, { windowClosed: true, nextPollAt: now() }, OPEN_STATUSES)
      }
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error
      log.warn('session.cancel-deferred', { sessionId: id, reason: error.code })
      await deps.store.updateSession(id, { windowClosed: true, nextPollAt: now() + pollEvery }, OPEN_STATUSES)
    }
    return toView(await mustGet(id))
  }

  return { cancel }
}
