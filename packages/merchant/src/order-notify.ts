import { isPaidStatus, type Params } from '@alipay-payment-handler/protocol'
import { GatewayError, tradeMismatch, type TradeSnapshot } from '@alipay-payment-handler/gateway-client'
import type { OrderContext } from './order-context.js'
import type { NotifyResult, OrderService } from './order-types.js'
import { tradeTransition } from './order-transitions.js'

/** Receiving the gateway's (or the relay's) notifies: verify, match, confirm, apply once. */
export function notifyUseCase(ctx: OrderContext): Pick<OrderService, 'notify'> {
  const { deps, now, log, gateway, sellerId, confirmWithGateway, paid, gatewaySaysPaid } = ctx
  const latePaid = (orderId: string, trade: TradeSnapshot, via: 'notify') => ctx.latePaid(orderId, trade, via)

  async function notify(params: Params, charset?: string): Promise<NotifyResult> {
    const parsed = await gateway.parseNotify(params, charset)
    if (!parsed.ok) {
      log.warn('notify.bad-signature', { reason: parsed.reason })
      return { ack: 'fail', outcome: 'rejected', code: 'INVALID_SIGNATURE' }
    }
    const { notifyId, notifyType } = parsed
    if (parsed.kind === 'refund') {
      const { duplicate } = await deps.store.applyNotify(
        { notifyId, orderId: undefined, notifyType, tradeStatus: undefined, outcome: 'refund', params },
        now(),
      )
      if (duplicate) return { ack: 'success', outcome: 'duplicate' }
      for (const r of parsed.refunds) {
        await deps.store.settleRefund(r.refundNo, r.ok ? 'success' : 'failed', r.code, now())
      }
      return { ack: 'success', outcome: 'refund' }
    }
    const trade = parsed.trade
    const orderId = trade.outTradeNo ?? ''
    const status = trade.status
    const base = { notifyId, notifyType, tradeStatus: status, params }
    if (await deps.store.hasNotify(notifyId)) return { ack: 'success', outcome: 'duplicate', orderId }
    if (parsed.foreign) {
      // Signed by the gateway, but for another merchant: record it for a human, stop the retries.
      log.error('notify.foreign', { orderId, notifyId, reason: parsed.foreign })
      await deps.store.applyNotify({ ...base, orderId: undefined, outcome: `rejected:${parsed.foreign}` }, now())
      return { ack: 'success', outcome: 'rejected', orderId, code: parsed.foreign }
    }
    const order = await deps.store.get(orderId)
    if (!order) {
      // Genuine (signed) but not ours: record it for a human and stop the retries.
      log.error('notify.unknown-order', { orderId, notifyId })
      await deps.store.applyNotify({ ...base, orderId: undefined, outcome: 'rejected:ORDER_NOT_EXIST' }, now())
      return { ack: 'success', outcome: 'rejected', orderId, code: 'ORDER_NOT_EXIST' }
    }
    // openapi: a refund's notify names it (out_biz_no); it settles the refund whatever the status.
    const settleRefund = async () => {
      if (parsed.refundNo) await deps.store.settleRefund(parsed.refundNo, 'success', undefined, now())
    }
    if (isPaidStatus(status)) {
      const mismatch = tradeMismatch(order, trade, sellerId)
      if (mismatch) {
        log.error('notify.rejected', {
          orderId,
          notifyId,
          reason: mismatch,
          expectedAmount: order.amount,
          notifiedAmount: trade.amount,
        })
        await deps.store.applyNotify({ ...base, orderId, outcome: `rejected:${mismatch}` }, now())
        return { ack: 'success', outcome: 'rejected', orderId, code: mismatch }
      }
      if (confirmWithGateway && order.state !== 'success') {
        // Money state moves on the gateway's word, never on a signature a leaked key can make: an
        // RSA2 notify (the gateway's private key) is proof, and notify_verify tells it is fresh
        // (once the relay acknowledged it, it answers false and the trade query decides). MD5 and
        // RSA notifies are confirmed by the trade query itself, which binds status and amount to
        // this trade (notify_verify does not: any live notify_id of the partner answers true).
        let confirmed = false
        try {
          if (parsed.gatewayProof) {
            const fresh = await gateway.confirmNotify(notifyId)
            confirmed = fresh === undefined || fresh || (await gatewaySaysPaid(order))
          } else {
            confirmed = await gatewaySaysPaid(order)
          }
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error
          log.warn('notify.confirm-failed', { orderId, reason: error.code })
          return { ack: 'fail', outcome: 'unconfirmed', orderId, code: 'GATEWAY_ERROR' }
        }
        if (!confirmed) {
          log.error('notify.not-confirmed', { orderId, notifyId })
          return { ack: 'fail', outcome: 'unconfirmed', orderId, code: 'PAYMENT_NOT_CONFIRMED' }
        }
      }
      const { move, sync } = tradeTransition(trade, order.tradeStatus)
      const cancelled = order.state === 'close'
      const result = await deps.store.applyNotify(
        { ...base, orderId, outcome: 'paid', outcomeIfUnchanged: cancelled ? 'late-payment' : 'updated' },
        now(),
        move,
      )
      if (result.duplicate) return { ack: 'success', outcome: 'duplicate', orderId }
      if (result.transitioned) await paid(orderId, 'notify')
      else if ((await deps.store.get(orderId))?.state === 'close') {
        // Paid after the merchant cancelled: recorded and refunded, never paid (rule 3).
        await latePaid(orderId, trade, 'notify')
        return { ack: 'success', outcome: 'late-payment', orderId }
      } else if (sync) await deps.store.transition(orderId, sync.from, sync.patch, now())
      await settleRefund()
      return { ack: 'success', outcome: result.transitioned ? 'paid' : 'updated', orderId }
    }
    const closing = status === 'TRADE_CLOSED'
    const { move, sync } = tradeTransition(trade, order.tradeStatus)
    const result = await deps.store.applyNotify(
      { ...base, orderId, outcome: closing ? 'closed' : 'updated' },
      now(),
      move,
    )
    if (result.duplicate) return { ack: 'success', outcome: 'duplicate', orderId }
    if (!result.transitioned && sync) await deps.store.transition(orderId, sync.from, sync.patch, now())
    await settleRefund()
    return { ack: 'success', outcome: closing ? 'closed' : 'updated', orderId }
  }

  return { notify }
}
