import { sessionRevokeParams } from '@alipay-payment-handler/protocol'
import type { OrderContext } from './order-context.js'

const DEFAULT_REVOKE_TIMEOUT_MS = 3000

/**
 * Tells the payment app that an order is cancelled, so it cancels the order's open sessions
 * (`POST /api/merchant/revoke`, signed with the key of the method data, which sets the partner). Never throws: when the
 * payment app is unreachable or refuses, the cancel still holds here, the method data's signed
 * it_b_pay ends the sessions, and a payment that gets through is refunded (order-late-payment).
 */
export async function revokeSessions(ctx: OrderContext, orderId: string): Promise<boolean> {
  const { deps, now, log, gateway } = ctx
  const app = deps.paymentApp
  if (!app || !gateway.signForPaymentApp) return false
  const started = performance.now()
  try {
    const params = await gateway.signForPaymentApp(sessionRevokeParams('', orderId, new Date(now())))
    const base = typeof app.url === 'function' ? app.url() : app.url
    const response = await fetch(new URL('/api/merchant/revoke', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ params }),
      signal: AbortSignal.timeout(app.timeoutMs ?? DEFAULT_REVOKE_TIMEOUT_MS),
    })
    const answer = (await response.json().catch(() => undefined)) as { revoked?: number; type?: string } | undefined
    const ms = Math.round(performance.now() - started)
    if (!response.ok) {
      log.warn('order.revoke-refused', { orderId, status: response.status, problem: answer?.type, ms })
      return false
    }
    log.info('order.sessions-revoked', { orderId, revoked: answer?.revoked, ms })
    return true
  } catch (error) {
    log.warn('order.revoke-failed', { orderId, reason: error instanceof Error ? error.name : 'unknown' })
    return false
  }
}
