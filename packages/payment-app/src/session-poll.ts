import { isPaidStatus } from '@alipay-payment-handler/protocol'
import { GatewayError } from '@alipay-payment-handler/gateway-client'
import { OPEN_STATUSES, type Session } from './session-store.js'
import { safeEqualAmounts, type SessionContext } from './session-context.js'
import type { SessionService } from './session-types.js'

/** The background poller: single_trade_query for sessions whose window closed or whose notify is late. */
export function pollUseCase(ctx: SessionContext): Pick<SessionService, 'pollOnce'> {
  const { deps, now, pollEvery, log, settle, settlePaidFromStore } = ctx

  async function pollSession(session: Session): Promise<void> {
    const gateway = deps.gateway(session.partner)
    const t = now()
    const again = () => deps.store.updateSession(session.id, { nextPollAt: t + pollEvery }, OPEN_STATUSES)
    try {
      const result = await gateway.singleTradeQuery({ tradeNo: session.tradeNo, outTradeNo: session.outTradeNo })
      const trade = result.found ? result.trade : undefined
      const status = trade?.status
      if (trade && isPaidStatus(status)) {
        if (!safeEqualAmounts(trade.amount ?? '', session.totalFee)) {
          log.error('poll.amount-mismatch', { sessionId: session.id })
          await settle(session.id, 'failed', {
            kind: 'failed',
            code: 'amount-mismatch',
            message: 'paid amount differs',
          })
          return
        }
        await settlePaidFromStore(session, trade.tradeNo)
        return
      }
      const expired = t >= session.expiresAt
      if (status === 'TRADE_CLOSED') {
        await settle(session.id, expired ? 'expired' : 'cancelled', {
          kind: 'cancelled',
          reason: expired ? 'expired' : 'closed',
        })
        return
      }
      if (expired) {
        if (trade) {
          const closed = await gateway.closeTrade({ tradeNo: trade.tradeNo, outTradeNo: session.outTradeNo })
          if (!closed.closed && closed.error !== 'TRADE_NOT_EXIST') {
            log.info('poll.close-refused', { sessionId: session.id, gatewayCode: closed.error })
            await again()
            return
          }
        }
        await settle(session.id, 'expired', { kind: 'cancelled', reason: 'expired' })
        return
      }
      if (!trade && session.windowClosed) {
        // The window closed before the cashier made a trade: nothing can be paid any more.
        await settle(session.id, 'cancelled', { kind: 'cancelled', reason: 'closed' })
        return
      }
      await again()
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error
      log.warn('poll.gateway-failed', { sessionId: session.id, reason: error.code })
      await again()
    }
  }

  return {
    async pollOnce() {
      const due = await deps.store.dueForPoll(now(), 20)
      for (const session of due) await pollSession(session)
      return due.length
    },
  }
}
