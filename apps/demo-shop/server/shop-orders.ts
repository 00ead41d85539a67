import type { ReconcileReport } from '@alipay-payment-handler/merchant'
import type { OrderView, PaymentDataView, PayUrlView } from '../common/views.js'

/** The classic pay types of the order service, with its pc/mobile aliases. */
export type PayType = 'PRE_PAY' | 'WAP_PAY'

/**
 * What the shop's routes need from the order service, in the shop's own terms. The adapter in
 * order-service-adapter.ts fits demo-server's createOrderService to it; tests use a fake.
 * Failures are thrown as errors with a stable string `code` (ORDER_NOT_EXIST, …).
 */
export interface ShopOrders {
  create(input: { subject: string; amount: string }): Promise<OrderView>
  /** Newest first. */
  list(): Promise<OrderView[]>
  get(orderId: string): Promise<OrderView>
  /** Signed PaymentMethodSpecificData for the Payment Request path. */
  paymentData(orderId: string): Promise<PaymentDataView>
  payUrl(orderId: string, payType: PayType): Promise<PayUrlView>
  /** Verifies an AlipayPaymentResponse (signature, amount, order, gateway) and updates the order. */
  confirm(orderId: string, details: Record<string, string>): Promise<OrderView>
  /** Asks the gateway and updates the order. */
  check(orderId: string): Promise<OrderView>
  cancel(orderId: string): Promise<OrderView>
  refund(orderId: string, amount?: string): Promise<OrderView>
  /** Processes a notify (verify, update idempotently); resolves the exact text to answer. */
  notify(params: Record<string, string>, charset?: string): Promise<string>
  /** Compares recent orders with the gateway, repairs what is safe, reports what needs a human. */
  reconcile(): Promise<ReconcileReport>
  /** The last reconciliation report, or undefined before the first run. */
  latestReconciliation(): Promise<ReconcileReport | undefined>
}
