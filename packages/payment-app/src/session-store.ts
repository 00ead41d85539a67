import type { CheckoutOutcome } from '@alipay-payment-handler/protocol'
import { createGroupCommit, openDatabase, type Db, type Migration } from '@alipay-payment-handler/server-runtime'

/** Session statuses (docs/decisions/0002-sessions-api.md). */
export type SessionStatus = 'created' | 'at_cashier' | 'paid' | 'failed' | 'cancelled' | 'expired' | 'aborted'

/** Statuses after which nothing changes any more. */
export const FINAL_STATUSES: readonly SessionStatus[] = ['paid', 'failed', 'cancelled', 'expired', 'aborted']

/** Statuses of a payment still in flight. */
export const OPEN_STATUSES: readonly SessionStatus[] = ['created', 'at_cashier']

/** One payment session as stored. */
export interface Session {
  id: string
  partner: string
  paymentRequestId: string
  merchantOrigin: string
  outTradeNo: string
  subject: string
  totalFee: string
  device: 'pc' | 'wap'
  /** The merchant's own notify_url; the relay forwards the gateway's notifies there. */
  merchantNotifyUrl: string
  /** The signed parameters we sent to the gateway (no key material: a signature is public). */
  request: Record<string, string>
  status: SessionStatus
  outcome: CheckoutOutcome | undefined
  tradeNo: string | undefined
  /** When the trade stops being payable (it_b_pay), or the server's own session limit. */
  expiresAt: number
  /** The window closed before a result: the poller asks the gateway. */
  windowClosed: boolean
  nextPollAt: number | undefined
  createdAt: number
  updatedAt: number
}

/** A verified gateway notify as received, kept byte for byte for forwarding. */
export interface StoredNotify {
  id: number
  partner: string
  notifyId: string
  outTradeNo: string | undefined
  tradeStatus: string | undefined
  sessionId: string | undefined
  body: string
  contentType: string
  receivedAt: number
}

/** One forwarding job of the relay's outbox. */
export interface OutboxItem {
  id: number
  notifyRow: number
  targetUrl: string
  attempts: number
  nextAttemptAt: number
  state: 'pending' | 'delivered' | 'failed'
  lastError: string | undefined
  body: string
  contentType: string
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        partner TEXT NOT NULL,
        payment_request_id TEXT NOT NULL,
        merchant_origin TEXT NOT NULL,
        out_trade_no TEXT NOT NULL,
        subject TEXT NOT NULL,
        total_fee TEXT NOT NULL,
        device TEXT NOT NULL CHECK (device IN ('pc', 'wap')),
        merchant_notify_url TEXT NOT NULL,
        request_json TEXT NOT NULL,
        status TEXT NOT NULL,
        outcome_json TEXT,
        trade_no TEXT,
        expires_at INTEGER NOT NULL,
        window_closed INTEGER NOT NULL DEFAULT 0,
        next_poll_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_order ON sessions (partner, out_trade_no);
      CREATE INDEX sessions_poll ON sessions (status, next_poll_at);
      CREATE TABLE notifies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        partner TEXT NOT NULL,
        notify_id TEXT NOT NULL,
        out_trade_no TEXT,
        trade_status TEXT,
        session_id TEXT REFERENCES sessions (id),
        body TEXT NOT NULL,
        content_type TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        UNIQUE (partner, notify_id)
      );
      CREATE INDEX notifies_order ON notifies (partner, out_trade_no);
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        notify_row INTEGER NOT NULL REFERENCES notifies (id),
        target_url TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        last_error TEXT,
        delivered_at INTEGER
      );
      CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    `,
  },
  {
    // Orders their merchant cancelled: no new session opens for them (docs/security.md, rule 3).
    version: 2,
    sql: `
      CREATE TABLE revoked_orders (
        partner TEXT NOT NULL,
        out_trade_no TEXT NOT NULL,
        revoked_at INTEGER NOT NULL,
        PRIMARY KEY (partner, out_trade_no)
      );
    `,
  },
]

interface SessionRow {
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

function toSession(row: SessionRow): Session {
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

/** Fields a state change may set. */
export interface SessionPatch {
  status?: SessionStatus
  outcome?: CheckoutOutcome
  tradeNo?: string
  windowClosed?: boolean
  nextPollAt?: number | null
}

/** The signing server's SQLite store: sessions, received notifies and the relay outbox. */
export interface SessionStore {
  readonly db: Db
  insertSession(session: Omit<Session, 'updatedAt'>): void
  getSession(id: string): Session | undefined
  /** A session of this order that is already paid, if any. */
  findPaidSession(partner: string, outTradeNo: string): Session | undefined
  /** The newest session of this order. */
  latestSession(partner: string, outTradeNo: string): Session | undefined
  /**
   * Applies `patch` when the session's status is one of `onlyFrom` (compare-and-set, so two
   * writers racing on one session cannot both win). Returns whether it applied.
   */
  updateSession(id: string, patch: SessionPatch, onlyFrom?: readonly SessionStatus[]): boolean
  /**
   * The merchant cancelled the order: records it as revoked (so `isOrderRevoked` answers true from
   * now on) and moves every open session of (`partner`, `outTradeNo`) to `cancelled` with
   * `outcome`, in one transaction; answers the ids it moved.
   */
  cancelOpenSessionsForOrder(partner: string, outTradeNo: string, outcome: CheckoutOutcome): string[]
  /** Whether the merchant revoked this order (cancelOpenSessionsForOrder). */
  isOrderRevoked(partner: string, outTradeNo: string): boolean
  /** Open sessions the poller should look at now: window closed, or past their deadline. */
  dueForPoll(now: number, limit: number): Session[]
  hasNotify(partner: string, notifyId: string): boolean
  /**
   * Stores a verified notify and, when it has somewhere to go, its outbox job, in ONE
   * transaction together with `alsoDo` (e.g. marking the session paid). False for a duplicate.
   */
  recordNotify(
    notify: Omit<StoredNotify, 'id'>,
    targetUrl: string | undefined,
    now: number,
    alsoDo?: () => void,
  ): { inserted: boolean; id?: number }
  /** The newest paid notify of an order (to answer a session whose return never came). */
  paidNotifyFor(partner: string, outTradeNo: string): StoredNotify | undefined
  dueOutbox(now: number, limit: number): OutboxItem[]
  markDelivered(id: number, now: number): void
  /** Records a failed attempt: the next one at `nextAttemptAt`, or `failed` when undefined. */
  markAttemptFailed(id: number, error: string, nextAttemptAt: number | undefined): void
  getOutbox(id: number): OutboxItem | undefined
  countNotifies(partner: string, notifyId: string): number
  /** Runs `write` in a transaction shared with the other writes of this turn (group commit). */
  grouped<T>(write: () => T): Promise<T>
  close(): void
}

/** Opens the signing server's store on a SQLite file (WAL, migrations applied). */
export function openSessionStore(path: string): SessionStore {
  const db = openDatabase(path, MIGRATIONS)
  const group = createGroupCommit(db)
  const sessionById = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?')
  const outboxSelect = `SELECT o.id, o.notify_row, o.target_url, o.attempts, o.next_attempt_at, o.state, o.last_error,
      n.body, n.content_type FROM outbox o JOIN notifies n ON n.id = o.notify_row`
  interface OutboxRow {
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
  const toOutbox = (r: OutboxRow): OutboxItem => ({
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
  interface NotifyRow {
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
  const toNotify = (r: NotifyRow): StoredNotify => ({
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

  const insertNotify = db.prepare(
    `INSERT OR IGNORE INTO notifies (partner, notify_id, out_trade_no, trade_status, session_id, body, content_type, received_at)
     VALUES (@partner, @notifyId, @outTradeNo, @tradeStatus, @sessionId, @body, @contentType, @receivedAt)`,
  )
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (notify_row, target_url, next_attempt_at, state) VALUES (?, ?, ?, 'pending')`,
  )

  return {
    db,
    insertSession(s) {
      db.prepare(
        `INSERT INTO sessions (id, partner, payment_request_id, merchant_origin, out_trade_no, subject, total_fee, device,
           merchant_notify_url, request_json, status, outcome_json, trade_no, expires_at, window_closed, next_poll_at,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
      )
    },
    getSession(id) {
      const row = sessionById.get(id)
      return row ? toSession(row) : undefined
    },
    findPaidSession(partner, outTradeNo) {
      const row = db
        .prepare<[string, string], SessionRow>(
          `SELECT * FROM sessions WHERE partner = ? AND out_trade_no = ? AND status = 'paid' LIMIT 1`,
        )
        .get(partner, outTradeNo)
      return row ? toSession(row) : undefined
    },
    latestSession(partner, outTradeNo) {
      const row = db
        .prepare<[string, string], SessionRow>(
          `SELECT * FROM sessions WHERE partner = ? AND out_trade_no = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`,
        )
        .get(partner, outTradeNo)
      return row ? toSession(row) : undefined
    },
    updateSession(id, patch, onlyFrom) {
      const sets: string[] = ['updated_at = @now']
      const params: Record<string, unknown> = { id, now: Date.now() }
      if (patch.status !== undefined) {
        sets.push('status = @status')
        params['status'] = patch.status
      }
      if (patch.outcome !== undefined) {
        sets.push('outcome_json = @outcome')
        params['outcome'] = JSON.stringify(patch.outcome)
      }
      if (patch.tradeNo !== undefined) {
        sets.push('trade_no = @tradeNo')
        params['tradeNo'] = patch.tradeNo
      }
      if (patch.windowClosed !== undefined) {
        sets.push('window_closed = @windowClosed')
        params['windowClosed'] = patch.windowClosed ? 1 : 0
      }
      if (patch.nextPollAt !== undefined) {
        sets.push('next_poll_at = @nextPollAt')
        params['nextPollAt'] = patch.nextPollAt
      }
      let where = 'id = @id'
      if (onlyFrom) {
        const names = onlyFrom.map((_, i) => `@from${i}`)
        onlyFrom.forEach((status, i) => (params[`from${i}`] = status))
        where += ` AND status IN (${names.join(', ')})`
      }
      return db.prepare(`UPDATE sessions SET ${sets.join(', ')} WHERE ${where}`).run(params).changes === 1
    },
    cancelOpenSessionsForOrder(partner, outTradeNo, outcome) {
      return db.transaction(() => {
        const now = Date.now()
        db.prepare('INSERT OR IGNORE INTO revoked_orders (partner, out_trade_no, revoked_at) VALUES (?, ?, ?)').run(
          partner,
          outTradeNo,
          now,
        )
        return db
          .prepare<[string, number, string, string], { id: string }>(
            `UPDATE sessions SET status = 'cancelled', outcome_json = ?, next_poll_at = NULL, updated_at = ?
             WHERE partner = ? AND out_trade_no = ? AND status IN ('created', 'at_cashier') RETURNING id`,
          )
          .all(JSON.stringify(outcome), now, partner, outTradeNo)
          .map((row) => row.id)
      })()
    },
    isOrderRevoked(partner, outTradeNo) {
      return (
        db.prepare('SELECT 1 FROM revoked_orders WHERE partner = ? AND out_trade_no = ?').get(partner, outTradeNo) !==
        undefined
      )
    },
    dueForPoll(now, limit) {
      return db
        .prepare<[number, number, number], SessionRow>(
          `SELECT * FROM sessions
           WHERE status IN ('created', 'at_cashier') AND (window_closed = 1 OR expires_at <= ?)
             AND (next_poll_at IS NULL OR next_poll_at <= ?)
           ORDER BY next_poll_at LIMIT ?`,
        )
        .all(now, now, limit)
        .map(toSession)
    },
    hasNotify(partner, notifyId) {
      return (
        db.prepare('SELECT 1 FROM notifies WHERE partner = ? AND notify_id = ?').get(partner, notifyId) !== undefined
      )
    },
    recordNotify(notify, targetUrl, now, alsoDo) {
      return db.transaction(() => {
        const result = insertNotify.run(notify)
        if (result.changes === 0) return { inserted: false }
        const id = Number(result.lastInsertRowid)
        if (targetUrl) insertOutbox.run(id, targetUrl, now)
        alsoDo?.()
        return { inserted: true, id }
      })()
    },
    paidNotifyFor(partner, outTradeNo) {
      const row = db
        .prepare<[string, string], NotifyRow>(
          `SELECT * FROM notifies WHERE partner = ? AND out_trade_no = ?
             AND trade_status IN ('TRADE_SUCCESS', 'TRADE_FINISHED') ORDER BY id DESC LIMIT 1`,
        )
        .get(partner, outTradeNo)
      return row ? toNotify(row) : undefined
    },
    dueOutbox(now, limit) {
      return db
        .prepare<[number, number], OutboxRow>(
          `${outboxSelect} WHERE o.state = 'pending' AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?`,
        )
        .all(now, limit)
        .map(toOutbox)
    },
    markDelivered(id, now) {
      db.prepare(
        `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?`,
      ).run(now, id)
    },
    markAttemptFailed(id, error, nextAttemptAt) {
      db.prepare(
        `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at),
           state = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END WHERE id = ?`,
      ).run(error, nextAttemptAt ?? null, nextAttemptAt ?? null, id)
    },
    getOutbox(id) {
      const row = db.prepare<[number], OutboxRow>(`${outboxSelect} WHERE o.id = ?`).get(id)
      return row ? toOutbox(row) : undefined
    },
    countNotifies(partner, notifyId) {
      const row = db
        .prepare<[string, string], { n: number }>(
          'SELECT COUNT(*) AS n FROM notifies WHERE partner = ? AND notify_id = ?',
        )
        .get(partner, notifyId)
      return row?.n ?? 0
    },
    grouped: (write) => group.run(write),
    close() {
      group.flush()
      db.close()
    },
  }
}
