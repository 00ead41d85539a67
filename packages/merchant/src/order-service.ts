import { generateOrderId } from '@alipay-payment-handler/protocol'
import { counterUseCases } from './order-barcode.js'
import { checkoutUseCases } from './order-checkout.js'
import { confirmUseCase } from './order-confirm.js'
import { createOrderContext } from './order-context.js'
import { latePaymentHandler } from './order-late-payment.js'
import { notifyUseCase } from './order-notify.js'
import { runReconciliation, type ReconcileReport } from './order-reconcile.js'
import { refundUseCases } from './order-refunds.js'
import { runStatementReconciliation, type StatementReconcileReport } from './statement-reconcile.js'
import { OrderError } from './order-errors.js'
import { statusUseCases } from './order-status.js'
import type { OrderService, OrderServiceDeps } from './order-types.js'

export * from './order-types.js'

/**
 * Creates the order service: one module per use case (order-checkout, order-status, order-notify,
 * order-refunds, order-confirm), all on one shared context (order-context).
 */
export function createOrderService(deps: OrderServiceDeps): OrderService {
  const ctx = createOrderContext(deps)
  const { now, log, sellerId, queryTrade, paid, gateway } = ctx
  const refunds = refundUseCases(ctx)
  ctx.latePaid = latePaymentHandler(ctx, refunds.refund)
  let reconciling: Promise<ReconcileReport> | undefined
  const statementRuns = new Map<string, Promise<StatementReconcileReport>>()
  return {
    ...checkoutUseCases(ctx),
    ...statusUseCases(ctx),
    ...notifyUseCase(ctx),
    ...refunds,
    ...confirmUseCase(ctx),
    ...counterUseCases(ctx),
    generateOrderId: deps.newOrderId ?? (() => generateOrderId(new Date(now()))),

    reconcile(options) {
      // One run at a time: the schedule and an on-demand call share it instead of querying twice.
      reconciling ??= runReconciliation(
        {
          store: deps.store,
          sellerId,
          queryTrade,
          paid: (order) => paid(order.orderId, 'reconcile'),
          latePaid: (order, trade) => ctx.latePaid(order.orderId, trade, 'reconcile'),
          now,
          log,
        },
        options,
      ).finally(() => (reconciling = undefined))
      return reconciling
    },

    reconcileStatement(options) {
      const statementRows = gateway.statementRows?.bind(gateway)
      if (!statementRows) {
        return Promise.reject(
          new OrderError('NOT_SUPPORTED_BY_GATEWAY', `the ${gateway.kind} gateway has no statement to reconcile with`),
        )
      }
      // One run per statement at a time, as with reconcile().
      let run = statementRuns.get(options.billDate)
      if (!run) {
        run = runStatementReconciliation(
          { store: deps.store, statementRows, paid: (order) => paid(order.orderId, 'reconcile'), now, log },
          options,
        ).finally(() => statementRuns.delete(options.billDate))
        statementRuns.set(options.billDate, run)
      }
      return run
    },

    async latestReconciliation() {
      return (await deps.store.latestReconcileReport()) as ReconcileReport | undefined
    },
  }
}
