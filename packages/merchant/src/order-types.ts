// The order service's types: its dependencies, its API and what it answers.
import type { KeyRing, Params, PaymentMethodSpecificData, SignType } from '@alipay-payment-handler/protocol'
import type { MapiClient, PayType, PaymentGateway } from '@alipay-payment-handler/gateway-client'
import type { Logger } from '@alipay-payment-handler/server-runtime'
import type { CounterUseCases } from './order-barcode.js'
import type { ReconcileOptions, ReconcileReport } from './order-reconcile.js'
import type { StatementReconcileOptions, StatementReconcileReport } from './statement-reconcile.js'
import type { Order, OrderState, OrderStore, Refund } from './order-store.js'

export { PAY_TYPES, type PayType } from '@alipay-payment-handler/gateway-client'

/** The order-service API's SUCCESS_RETURN: what a notify endpoint answers once it has accepted a notify. */
export const SUCCESS_RETURN = 'success'

/** An order as callers see it (the order-service API's query() answer). */
export interface OrderView {
  orderId: string
  subject: string
  amount: string
  /** Local state: wait, success, close, timeout. */
  status: OrderState
  tradeStatus: string | null
  tradeNo: string | null
  payTime: string | null
  refunded: string
  expiresAt: string
  /**
   * Only on a cancelled (`close`) order that was paid at the gateway all the same: `refunding` once
   * a refund of the whole amount is reserved (sent, or settled: see refunds()), `needs-review` while
   * a person must act (automatic refund off). Such an order never becomes `success` (docs/security.md, rule 3).
   */
  latePayment?: 'refunding' | 'needs-review'
}

/** getPayUrl's answer: a link (and its QR image) for PRE_PAY/pc, a link and a form for WAP_PAY/mobile. */
export interface PayUrlResult {
  orderId: string
  payType: PayType
  /** The signed pay link; for PRE_PAY on openapi, precreate's qr_code. */
  payUrl: string
  /** PNG data URL of a QR code of payUrl (PRE_PAY, pc). */
  qrCode?: string
  /** Auto-submitting HTML form (WAP_PAY, mobile). */
  form?: string
}

/** What notify() decided, and the exact text to answer. */
export interface NotifyResult {
  /** `success` when the notify was accepted (also for duplicates), `fail` when it should come again. */
  ack: 'success' | 'fail'
  outcome: 'paid' | 'closed' | 'updated' | 'duplicate' | 'refund' | 'rejected' | 'unconfirmed' | 'late-payment'
  orderId?: string
  code?: string
}

/**
 * The order service's dependencies. `gateway` is either a PaymentGateway (mapi or openapi, see
 * `createPaymentGateway`) or, as before, a MapiClient plus `partner`, `sellerId`, `keys` and
 * `signType`, which are then wrapped into the mapi gateway.
 */
export interface OrderServiceDeps {
  store: OrderStore
  /** The gateway: a PaymentGateway, or a mapi client configured with this merchant's partner and keys. */
  gateway: PaymentGateway | MapiClient
  /** mapi partner (with a MapiClient gateway). */
  partner?: string
  /** The seller account trades must name (required with a MapiClient; defaults to the gateway's). */
  sellerId?: string
  /** mapi: md5Key and/or RSA private key (to sign), the gateway's public key (to verify). */
  keys?: KeyRing
  /** mapi: sign type of requests and PaymentMethodSpecificData. */
  signType?: SignType
  /** Where the gateway (or the payment app's relay) posts notifies for these orders. */
  notifyUrl: string
  /** return_url of getPayUrl's requests (the merchant's own landing page). */
  returnUrl?: string
  /** Product page for the WAP cashier (mapi show_url, openapi quit_url). */
  showUrl?: string
  /** notify_url of mapi refund batches (openapi refunds notify the payment's notify_url). */
  refundNotifyUrl?: string
  /** Relative timeout sent with every order: mapi it_b_pay (needs activation), openapi timeout_express. */
  itBPay?: string
  /** How long an order stays payable locally before `timeout` (default 2 h, or it_b_pay's length). */
  orderTtlMs?: number
  /**
   * Confirm notifies and browser responses with the gateway (default true): mapi asks notify_verify,
   * then single_trade_query; openapi has no notify_verify, its notify signature is the proof, and
   * browser responses are confirmed with alipay.trade.query.
   */
  confirmWithGateway?: boolean
  /**
   * The payment app whose sessions a cancel revokes (its signed `POST /api/merchant/revoke`): its
   * origin, or a function answering it (read at each cancel). Unreachable, it never blocks the
   * cancel: the order is closed here all the same, and a late payment is refunded.
   */
  paymentApp?: { url: string | (() => string); timeoutMs?: number }
  /**
   * A payment that arrives for a cancelled order is refunded in full automatically (default true);
   * false leaves it for a person (an audit row `FLAG_LATE_PAYMENT`, `latePayment: 'needs-review'`).
   */
  refundLatePayments?: boolean
  /**
   * Called once per order, when it becomes paid (by notify, check, confirm or reconciliation):
   * the place to fulfil it. Errors are logged, never undo the payment.
   */
  onPaid?: (order: OrderView, via: PaidVia) => void | Promise<void>
  /**
   * Makes the id of an order created without one (default `generateOrderId` of the protocol
   * package). An id that is already taken is never reused: the service draws another.
   */
  newOrderId?: () => string
  now?: () => number
  logger?: Logger
}

/** Which path marked an order paid. */
export type PaidVia = 'notify' | 'check' | 'confirm' | 'reconcile' | 'barcode'

/** The merchant's order service (its openapi mapping: openapi-protocol §9), on a storage interface and a payment gateway. */
export interface OrderService extends CounterUseCases {
  create(subject: string, amount: string, orderId?: string): Promise<OrderView>
  getPayUrl(orderId: string, payType: string): Promise<PayUrlResult>
  paymentData(orderId: string): Promise<{ data: PaymentMethodSpecificData; total: { currency: 'CNY'; value: string } }>
  query(orderId: string): Promise<OrderView>
  check(orderId: string): Promise<OrderView>
  checkThird(order: Order): Promise<Params | Record<string, never>>
  cancel(orderId: string): Promise<OrderView>
  cancelThird(orderId: string): Promise<typeof SUCCESS_RETURN>
  /**
   * Refunds part or all of a paid order. `refundNo` (mapi batch_no, openapi out_request_no) makes
   * it idempotent: a retry with the same number resubmits the same refund and never refunds twice.
   */
  refund(orderId: string, amount: string, reason: string, refundNo?: string): Promise<Refund>
  /** A notify as `decodeNotify` (protocol) decoded it: its parameters and its body's charset. */
  notify(params: Params, charset?: string): Promise<NotifyResult>
  confirm(orderId: string, details: Record<string, unknown>): Promise<OrderView>
  refunds(orderId: string): Promise<Refund[]>
  generateOrderId(): string
  /**
   * Finds orders whose state disagrees with the gateway, repairs what a notify would have
   * repaired (audited), and reports what needs a human. Concurrent calls share one run.
   */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>
  /**
   * Reconciles one day's (or month's) statement with the orders and refunds: repairs lost
   * payments and refunds (audited), flags the rest (openapi only: mapi has no statement API here).
   */
  reconcileStatement(options: StatementReconcileOptions): Promise<StatementReconcileReport>
  /** The latest finished reconciliation report (kept in the store, so it survives a restart). */
  latestReconciliation(): Promise<ReconcileReport | undefined>
}
