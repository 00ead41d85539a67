/**
 * The JSON the merchant backend and the shop pages exchange. Types only, so both the Node
 * backend and the window code import it.
 */

/** Local order states, as the order service keeps them (packages/merchant), plus `refund` once money went back. */
export type OrderStatus = 'wait' | 'success' | 'close' | 'timeout' | 'refund'

/** How the backend shows an order to the pages. */
export interface OrderView {
  orderId: string
  subject: string
  /** Decimal string in CNY yuan, e.g. "68.00". */
  amount: string
  status: OrderStatus
  /** The gateway's trade status when known (WAIT_BUYER_PAY, TRADE_SUCCESS, …). */
  gatewayStatus?: string | undefined
  tradeNo?: string | undefined
  /** ISO 8601. */
  createdAt: string
  paidAt?: string | undefined
  refundedAmount?: string | undefined
  /** A cancelled order paid all the same: its refund is under way, or a person must look at it. */
  latePayment?: 'refunding' | 'needs-review' | undefined
  notifies: NotifyView[]
}

/** One notify the backend received for an order. */
export interface NotifyView {
  /** ISO 8601. */
  receivedAt: string
  notifyType: string
  tradeStatus?: string | undefined
  /** False when the signature or the notify_id did not verify: such a notify changed nothing. */
  verified: boolean
}

/** A product of the catalogue. */
export interface ProductView {
  id: string
  name: string
  description: string
  price: string
  /** Path of the product's illustration on the shop's origin. */
  image: string
}

/** What the page needs to run the Payment Request path: signed method data and the total. */
export interface PaymentDataView {
  data: Record<string, string>
  total: { currency: 'CNY'; value: string }
  label: string
}

/** The classic routes' answer: a QR (desktop, PRE_PAY) or an auto-submitting form (mobile, WAP_PAY). */
export interface PayUrlView {
  payUrl?: string | undefined
  /** A data: URL of the QR image. */
  qrCode?: string | undefined
  form?: string | undefined
}

/** Settings the backend hands the pages in /config.json. Never a secret. */
export interface ShopConfig {
  /** The payment app's origin, for the polyfill. */
  appOrigin: string
  /** True when the stack runs against the local sandbox gateway. */
  sandbox: boolean
  /** The sandbox's test buyer, shown as a hint at checkout (sandbox only). */
  buyer?: { login: string; password: string } | undefined
}

/** The orders page's view of a reconciliation report (the order service's ReconcileReport, in part). */
export interface ReconciliationView {
  runId: number
  trigger: string
  finishedAt: string
  checked: number
  repaired: { orderId: string; action: string; from: string; to: string }[]
  needsHuman: { orderId: string; reason: string; message: string }[]
  errors: { orderId: string; code: string; message: string }[]
}

/** Where a counter (barcode) payment is, as the counter page shows it. */
export type CounterStage =
  'paying' | 'waiting-for-password' | 'unknown' | 'cancelling' | 'paid' | 'failed' | 'cancelled'

/** One counter payment: its order and stage; `subCode` when it failed, `reason` when cancelled. */
export interface CounterView {
  orderId: string
  amount: string
  stage: CounterStage
  subCode?: string | undefined
  subMsg?: string | undefined
  reason?: string | undefined
  tradeNo?: string | undefined
}
