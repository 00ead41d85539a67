import { checkSessionRevoke, verifyParams, type Params } from '@alipay-payment-handler/protocol'
import { problem, type SessionContext } from './session-context.js'
import type { RevokedSessions, SessionService } from './session-types.js'

/**
 * The merchant cancelled an order: its open sessions become `cancelled`, so no window sends the
 * buyer to the cashier for it again and no return or notify marks them paid. The message is
 * signed with the partner's key and type, like its method data (docs/security.md, rule 3).
 */
export function revokeUseCase(ctx: SessionContext): Pick<SessionService, 'revokeOrder'> {
  const { deps, now, log } = ctx

  async function revokeOrder(params: Params): Promise<RevokedSessions> {
    // The shape first, so no signed set of another kind (method data, a notify) is taken for a revoke.
    const shape = checkSessionRevoke(params, new Date(now()))
    if (!shape.ok) throw problem(400, shape.reason, `The revoke is refused: ${shape.detail}.`)
    const partner = deps.partners.get(shape.partner)
    if (!partner) throw problem(403, 'unknown-partner', `Partner ${shape.partner} is not served here.`)
    if (params['sign_type'] !== partner.signType) {
      throw problem(400, 'unsupported-sign-type', `This partner's messages are signed ${partner.signType}.`, {
        expected: partner.signType,
      })
    }
    const verified = await verifyParams(params, {
      keys: deps.partners.merchantKeys(partner.partner),
      signType: partner.signType,
    })
    if (!verified.ok) {
      log.warn('session.bad-revoke-sign', { partner: partner.partner, reason: verified.reason })
      throw problem(403, 'invalid-signature', `The merchant's sign does not verify (${verified.reason}).`, {
        reason: verified.reason,
      })
    }
    // Keyed by (partner, order) from the verified map itself: nothing is parsed again.
    const ids = await deps.store.cancelOpenSessionsForOrder(partner.partner, shape.outTradeNo, {
      kind: 'cancelled',
      reason: 'closed',
    })
    for (const id of ids) deps.events.changed(id)
    log.info('session.revoked', { partner: partner.partner, outTradeNo: shape.outTradeNo, sessions: ids.length })
    return { outTradeNo: shape.outTradeNo, revoked: ids.length }
  }

  return { revokeOrder }
}
