import { generateOrderId } from '@alipay-payment-handler/protocol'
import { counterUseCases } from './order-barcode.js'
import { checkoutUseCases } from './order-checkout.js'
import { confirmUseCase } from './order-confirm.js'
import { createOrderContext } from './order-context.js'
import { notifyUseCase } from './order-notify.js'
import { runReconciliation, type ReconcileReport } from './order-reconcile.js'
import { refundUseCases } from './order-refunds.js'
import { statusUseCases } from './order-status.js'
import type { OrderService, OrderServiceDeps } from './order-types.js'

export * from './order-types.js'

/**
 * Creates the order service: one module per use case (order-checkout, order-status, order-notify,
 * order-refunds, order-confirm), all on one shared context (order-context).
 */
export function createOrderService(deps: OrderServiceDeps): OrderService {
  const ctx = createOrderContext(deps)
  const { now, log, sellerId, queryTrade, paid } = ctx
  let reconciling: Promise<ReconcileReport> | undefined
  return {
    ...checkoutUseCases(ctx),
    ...statusUseCases(ctx),
    ...notifyUseCase(ctx),
    ...refundUseCases(ctx),
    ...confirmUseCase(ctx),
    ...counterUseCases(ctx),
    generateOrderId: () => generateOrderId(new Date(now())),

    reconcile(options) {
      // One run at a time: the schedule and an on-demand call share it instead of querying twice.
      reconciling ??= runReconciliation(
        {
          store: deps.store,
          sellerId,
          queryTrade,
          paid: (order) => paid(order.orderId, 'reconcile'),
          now,
          log,
        },
        options,
      ).finally(() => (reconciling = undefined))
      return reconciling
    },

    async latestReconciliation() {
      return (await deps.store.latestReconcileReport()) as ReconcileReport | undefined
    },
  }
}
