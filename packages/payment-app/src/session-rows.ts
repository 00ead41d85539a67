// Row shapes and converters shared by the SQLite and PostgreSQL session stores (not exported by the package).
import type { CheckoutOutcome } from '@alipay-payment-handler/protocol'
import type { OutboxCounts, OutboxItem, Session, SessionStatus, StoredNotify } from './session-store.js'

export interface SessionRow {
  id: string
  partner: string
  payment_request_id: string
  merchant_origin: string
  out_trade_no: string
  subject: string
  total_fee: string
  device: 'pc' | 'wap'
  merchant_notify_url: string
  request_json: string
  status: SessionStatus
  outcome_json: string | null
  trade_no: string | null
  expires_at: number
  window_closed: number
  next_poll_at: number | null
  created_at: number
  updated_at: number
}

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    partner: row.partner,
    paymentRequestId: row.payment_request_id,
    merchantOrigin: row.merchant_origin,
    outTradeNo: row.out_trade_no,
    subject: row.subject,
    totalFee: row.total_fee,
    device: row.device,
    merchantNotifyUrl: row.merchant_notify_url,
    request: JSON.parse(row.request_json) as Record<string, string>,
    status: row.status,
    outcome: row.outcome_json ? (JSON.parse(row.outcome_json) as CheckoutOutcome) : undefined,
    tradeNo: row.trade_no ?? undefined,
    expiresAt: row.expires_at,
    windowClosed: row.window_closed === 1,
    nextPollAt: row.next_poll_at ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** The columns of `INSERT INTO sessions`, in order (both stores use this order). */
export function sessionValues(s: Omit<Session, 'updatedAt'>): unknown[] {
  return [
    s.id,
    s.partner,
    s.paymentRequestId,
    s.merchantOrigin,
    s.outTradeNo,
    s.subject,
    s.totalFee,
    s.device,
    s.merchantNotifyUrl,
    JSON.stringify(s.request),
    s.status,
    s.outcome ? JSON.stringify(s.outcome) : null,
    s.tradeNo ?? null,
    s.expiresAt,
    s.windowClosed ? 1 : 0,
    s.nextPollAt ?? null,
    s.createdAt,
    s.createdAt,
  ]
}

export function countsOf(rows: readonly { state: OutboxItem['state']; n: number }[]): OutboxCounts {
  const counts: OutboxCounts = { pending: 0, delivered: 0, failed: 0 }
  for (const row of rows) counts[row.state] = Number(row.n)
  return counts
}

export interface OutboxRow {
  id: number
  notify_row: number
  target_url: string
  attempts: number
  next_attempt_at: number
  state: OutboxItem['state']
  last_error: string | null
  body: string
  content_type: string
}

export const toOutbox = (r: OutboxRow): OutboxItem => ({
  id: r.id,
  notifyRow: r.notify_row,
  targetUrl: r.target_url,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  state: r.state,
  lastError: r.last_error ?? undefined,
  body: r.body,
  contentType: r.content_type,
})

export interface NotifyRow {
  id: number
  partner: string
  notify_id: string
  out_trade_no: string | null
  trade_status: string | null
  session_id: string | null
  body: string
  content_type: string
  received_at: number
}

export const toNotify = (r: NotifyRow): StoredNotify => ({
  id: r.id,
  partner: r.partner,
  notifyId: r.notify_id,
  outTradeNo: r.out_trade_no ?? undefined,
  tradeStatus: r.trade_status ?? undefined,
  sessionId: r.session_id ?? undefined,
  body: r.body,
  contentType: r.content_type,
  receivedAt: r.received_at,
})
