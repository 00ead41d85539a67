// Row shapes and converters shared by the SQLite and PostgreSQL order stores (not exported by the package).
import type { AuditRow, Order, OrderNotifyRecord, OrderState, Refund } from './order-store.js'

/**
 * The `orders` columns both stores share. The refunded sum is not among them: SQLite keeps it in
 * fen (`refunded_fen`), PostgreSQL as NUMERIC (`refunded`), so each store converts its own.
 */
export interface OrderColumns {
  order_id: string
  subject: string
  amount: string
  state: OrderState
  trade_status: string | null
  trade_no: string | null
  pay_time: string | null
  pay_channel: string | null
  created_at: number
  updated_at: number
  expires_at: number
}

/** An order row as an `Order`; `refunded` is the row's refunded sum as a canonical decimal string. */
export function orderFromColumns(row: OrderColumns, refunded: string): Order {
  return {
    orderId: row.order_id,
    subject: row.subject,
    amount: row.amount,
    state: row.state,
    tradeStatus: row.trade_status ?? undefined,
    tradeNo: row.trade_no ?? undefined,
    payTime: row.pay_time ?? undefined,
    refunded,
    payChannel: row.pay_channel ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
  }
}

export interface NotifyRow {
  notify_id: string
  order_id: string | null
  notify_type: string
  trade_status: string | null
  outcome: string
  params_json: string
}

export const toNotifyRecord = (r: NotifyRow): OrderNotifyRecord => ({
  notifyId: r.notify_id,
  orderId: r.order_id ?? undefined,
  notifyType: r.notify_type,
  tradeStatus: r.trade_status ?? undefined,
  outcome: r.outcome,
  params: JSON.parse(r.params_json) as Record<string, string>,
})

export interface RefundRow {
  batch_no: string
  order_id: string
  amount: string
  reason: string
  state: Refund['state']
  gateway_code: string | null
}

export const toRefund = (r: RefundRow): Refund => ({
  batchNo: r.batch_no,
  orderId: r.order_id,
  amount: r.amount,
  reason: r.reason,
  state: r.state,
  gatewayCode: r.gateway_code ?? undefined,
})

export interface AuditTableRow {
  run_id: number | null
  order_id: string
  action: string
  from_state: OrderState | null
  to_state: OrderState | null
  /** 0/1 on SQLite, a BOOLEAN on PostgreSQL. */
  applied: number | boolean
  detail_json: string
  created_at: number
}

export const toAuditRow = (r: AuditTableRow): AuditRow => ({
  runId: r.run_id ?? undefined,
  orderId: r.order_id,
  action: r.action,
  fromState: r.from_state ?? undefined,
  toState: r.to_state ?? undefined,
  applied: r.applied === true || r.applied === 1,
  detail: JSON.parse(r.detail_json) as Record<string, unknown>,
  at: r.created_at,
})
