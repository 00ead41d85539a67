import type { CheckoutOutcome } from '@alipay-payment-handler/protocol'
import { createGroupCommit, openDatabase, type Db, type Migration } from '@alipay-payment-handler/server-runtime'
import {
  countsOf,
  sessionValues,
  toNotify,
  toOutbox,
  toSession,
  type NotifyRow,
  type OutboxRow,
  type SessionRow,
} from './session-rows.js'

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
    // Leases, so a relay process owns the deliveries it is making (the same columns as PostgreSQL's).
    version: 2,
    sql: `
      ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
      ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
    `,
  },
  {
    // Orders their merchant cancelled: no new session opens for them (docs/security.md, rule 3).
    version: 3,
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

/** The SQLite schema's latest version. */
const SQLITE_VERSION = MIGRATIONS.length

/** Fields a state change may set. */
export interface SessionPatch {
  status?: SessionStatus
  outcome?: CheckoutOutcome
  tradeNo?: string
  windowClosed?: boolean
  nextPollAt?: number | null
}

/**
 * What a verified paying notify does to its session, in the notify's own transaction: an open
 * session becomes paid with this outcome; a session the poller already marked paid without the
 * signed set gets the outcome filled in.
 */
export interface NotifySettlement {
  sessionId: string
  outcome: CheckoutOutcome
  tradeNo: string | undefined
}

/** `status`: the session went from open to paid; `outcome`: a paid session got its signed set. */
export type SettledBy = 'status' | 'outcome' | undefined

/** Outbox jobs by state, for drain checks (`pending` counts leased ones too). */
export type OutboxCounts = Record<OutboxItem['state'], number>

/**
 * The signing server's store: sessions, received notifies and the relay outbox. Async so that a
 * PostgreSQL store shared by several processes implements it as well as the SQLite file does;
 * every method that changes state is one transaction, and the compare-and-set ones stay correct
 * across processes.
 */
export interface SessionStore {
  readonly kind: 'sqlite' | 'postgres'
  /** A shared store's PostgreSQL pool: the rate limits count in it too, so every process shares them. */
  readonly sharedPool?: { query: (...args: never[]) => unknown }
  insertSession(session: Omit<Session, 'updatedAt'>): Promise<void>
  getSession(id: string): Promise<Session | undefined>
  /**
   * What refuses a new session for this order, in one read: the merchant revoked it
   * (`cancelOpenSessionsForOrder`), or one of its sessions is paid already.
   */
  orderStanding(partner: string, outTradeNo: string): Promise<{ revoked: boolean; paid: boolean }>
  /** The newest session of this order. */
  latestSession(partner: string, outTradeNo: string): Promise<Session | undefined>
  /**
   * Applies `patch` when the session's status is one of `onlyFrom` (compare-and-set, so two
   * writers racing on one session cannot both win). Returns whether it applied.
   */
  updateSession(id: string, patch: SessionPatch, onlyFrom?: readonly SessionStatus[]): Promise<boolean>
  /**
   * The merchant cancelled the order: records it as revoked (so `orderStanding` answers revoked from
   * now on) and moves every open session of (`partner`, `outTradeNo`) to `cancelled` with
   * `outcome`, in one transaction; answers the ids it moved.
   */
  cancelOpenSessionsForOrder(partner: string, outTradeNo: string, outcome: CheckoutOutcome): Promise<string[]>
  /** Open sessions the poller should look at now: window closed, or past their deadline. */
  dueForPoll(now: number, limit: number): Promise<Session[]>
  hasNotify(partner: string, notifyId: string): Promise<boolean>
  /**
   * The two reads of a notify's arrival in one: whether it is stored already (`hasNotify`) and
   * the newest session of its order (`latestSession`; none without an order number).
   */
  notifyArrival(
    partner: string,
    notifyId: string,
    outTradeNo: string | undefined,
  ): Promise<{ stored: boolean; session: Session | undefined }>
  /**
   * Stores a verified notify and, when it has somewhere to go, its outbox job, in ONE
   * transaction together with `settlement`. `inserted` is false for a duplicate notify_id (nothing
   * changes then). Resolves once committed; the writes of one turn share a commit (group commit).
   */
  recordNotify(
    notify: Omit<StoredNotify, 'id'>,
    targetUrl: string | undefined,
    now: number,
    settlement?: NotifySettlement,
  ): Promise<{ inserted: boolean; id?: number; settled: SettledBy }>
  /** The newest paid notify of an order (to answer a session whose return never came). */
  paidNotifyFor(partner: string, outTradeNo: string): Promise<StoredNotify | undefined>
  /**
   * Leases up to `limit` pending jobs due at `now` to `owner` until `now + leaseMs`: no other
   * owner gets them until then, and a lease that runs out (its process died) is taken over.
   */
  leaseOutbox(owner: string, now: number, limit: number, leaseMs: number): Promise<OutboxItem[]>
  /** Marks a job delivered (whoever held it: a delivery made is a fact). Group-committed. */
  markDelivered(id: number, now: number): Promise<void>
  /**
   * Records a failed attempt of `owner`'s lease: the next one at `nextAttemptAt`, or `failed` when
   * undefined. Changes nothing when the job was delivered or leased by another owner meanwhile.
   */
  markAttemptFailed(id: number, error: string, nextAttemptAt: number | undefined, owner?: string): Promise<void>
  getOutbox(id: number): Promise<OutboxItem | undefined>
  /** The outbox jobs of an order's notifies, oldest first. */
  outboxForOrder(partner: string, outTradeNo: string): Promise<OutboxItem[]>
  outboxCounts(): Promise<OutboxCounts>
  /** Sessions per status, for the metrics. */
  sessionCounts(): Promise<Record<string, number>>
  /** Notifies waiting to be forwarded, and when the oldest of them arrived: the metrics' outbox gauges. */
  pendingOutbox(): Promise<{ depth: number; oldestReceivedAt: number | undefined }>
  countNotifies(partner: string, notifyId: string): Promise<number>
  /** The applied schema version and how many migrations are missing; throws when the database does not answer. */
  migrationStatus(): Promise<{ version: number; pending: number }>
  close(): Promise<void>
}

/** The SQLite store also exposes its handle (tests and benchmarks seed it directly). */
export interface SqliteSessionStore extends SessionStore {
  readonly kind: 'sqlite'
  readonly db: Db
}

/** `SessionStore.orderStanding`. */
const ORDER_STANDING_SQL = `SELECT
  EXISTS (SELECT 1 FROM revoked_orders WHERE partner = @partner AND out_trade_no = @outTradeNo) AS revoked,
  EXISTS (SELECT 1 FROM sessions WHERE partner = @partner AND out_trade_no = @outTradeNo AND status = 'paid') AS paid`

/** Opens the signing server's store on a SQLite file (WAL, migrations applied). */
export function openSessionStore(path: string): SqliteSessionStore {
  const db = openDatabase(path, MIGRATIONS)
  // A SQLite file belongs to one process: leases left by its previous run (killed mid-delivery)
  // are its own, so a restart resumes those deliveries at once instead of after their lease.
  db.prepare(`UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL`).run()
  const group = createGroupCommit(db)
  const sessionById = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?')
  const outboxSelect = `SELECT o.id, o.notify_row, o.target_url, o.attempts, o.next_attempt_at, o.state, o.last_error,
      n.body, n.content_type FROM outbox o JOIN notifies n ON n.id = o.notify_row`

  const insertNotify = db.prepare(
    `INSERT OR IGNORE INTO notifies (partner, notify_id, out_trade_no, trade_status, session_id, body, content_type, received_at)
     VALUES (@partner, @notifyId, @outTradeNo, @tradeStatus, @sessionId, @body, @contentType, @receivedAt)`,
  )
  const insertSessionRow = db.prepare(
    `INSERT INTO sessions (id, partner, payment_request_id, merchant_origin, out_trade_no, subject, total_fee, device,
       merchant_notify_url, request_json, status, outcome_json, trade_no, expires_at, window_closed, next_poll_at,
       created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (notify_row, target_url, next_attempt_at, state) VALUES (?, ?, ?, 'pending')`,
  )
  const hasNotifySync = (partner: string, notifyId: string): boolean =>
    db.prepare('SELECT 1 FROM notifies WHERE partner = ? AND notify_id = ?').get(partner, notifyId) !== undefined
  const latestSessionSync = (partner: string, outTradeNo: string): Session | undefined => {
    const row = db
      .prepare<[string, string], SessionRow>(
        `SELECT * FROM sessions WHERE partner = ? AND out_trade_no = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      )
      .get(partner, outTradeNo)
    return row ? toSession(row) : undefined
  }
  const updateSessionSync = (id: string, patch: SessionPatch, onlyFrom?: readonly SessionStatus[]): boolean => {
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
  }
  const settleSync = (settlement: NotifySettlement): SettledBy => {
    const { sessionId, outcome, tradeNo } = settlement
    const patch = { status: 'paid' as const, outcome, ...(tradeNo ? { tradeNo } : {}), nextPollAt: null }
    if (updateSessionSync(sessionId, patch, OPEN_STATUSES)) return 'status'
    // Paid by the poller before its notify arrived: fill in the signed set now.
    const filled = db
      .prepare(
        `UPDATE sessions SET outcome_json = ?, updated_at = ? WHERE id = ? AND status = 'paid' AND outcome_json IS NULL`,
      )
      .run(JSON.stringify(outcome), Date.now(), sessionId)
    return filled.changes === 1 ? 'outcome' : undefined
  }

  return {
    kind: 'sqlite',
    db,
    async insertSession(s) {
      // Group-committed like the notifies: the creates of one turn share a commit (one WAL append
      // of the pages they share, and fewer checkpoints), and each still resolves only once stored.
      const values = sessionValues(s)
      return group.run(() => {
        insertSessionRow.run(...values)
      })
    },
    async getSession(id) {
      const row = sessionById.get(id)
      return row ? toSession(row) : undefined
    },
    async orderStanding(partner, outTradeNo) {
      const row = db
        .prepare<[{ partner: string; outTradeNo: string }], { revoked: number; paid: number }>(ORDER_STANDING_SQL)
        .get({ partner, outTradeNo })
      return { revoked: row?.revoked === 1, paid: row?.paid === 1 }
    },
    async latestSession(partner, outTradeNo) {
      return latestSessionSync(partner, outTradeNo)
    },
    async updateSession(id, patch, onlyFrom) {
      return updateSessionSync(id, patch, onlyFrom)
    },
    async cancelOpenSessionsForOrder(partner, outTradeNo, outcome) {
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
    async dueForPoll(now, limit) {
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
    async hasNotify(partner, notifyId) {
      return hasNotifySync(partner, notifyId)
    },
    async notifyArrival(partner, notifyId, outTradeNo) {
      return {
        stored: hasNotifySync(partner, notifyId),
        session: outTradeNo === undefined ? undefined : latestSessionSync(partner, outTradeNo),
      }
    },
    recordNotify(notify, targetUrl, now, settlement) {
      return group.run(() => {
        const result = insertNotify.run({
          ...notify,
          outTradeNo: notify.outTradeNo ?? null,
          tradeStatus: notify.tradeStatus ?? null,
          sessionId: notify.sessionId ?? null,
        })
        if (result.changes === 0) return { inserted: false, settled: undefined }
        const id = Number(result.lastInsertRowid)
        if (targetUrl) insertOutbox.run(id, targetUrl, now)
        return { inserted: true, id, settled: settlement ? settleSync(settlement) : undefined }
      })
    },
    async paidNotifyFor(partner, outTradeNo) {
      const row = db
        .prepare<[string, string], NotifyRow>(
          `SELECT * FROM notifies WHERE partner = ? AND out_trade_no = ?
             AND trade_status IN ('TRADE_SUCCESS', 'TRADE_FINISHED') ORDER BY id DESC LIMIT 1`,
        )
        .get(partner, outTradeNo)
      return row ? toNotify(row) : undefined
    },
    async leaseOutbox(owner, now, limit, leaseMs) {
      // One writer at a time on a SQLite file: the transaction alone keeps two leases apart.
      return db.transaction(() => {
        const due = db
          .prepare<[number, number, number], OutboxRow>(
            `${outboxSelect} WHERE o.state = 'pending' AND o.next_attempt_at <= ?
               AND (o.lease_until IS NULL OR o.lease_until <= ?)
             ORDER BY o.next_attempt_at, o.id LIMIT ?`,
          )
          .all(now, now, limit)
        const lease = db.prepare('UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?')
        for (const row of due) lease.run(owner, now + leaseMs, row.id)
        return due.map(toOutbox)
      })()
    },
    markDelivered(id, now) {
      return group.run(() => {
        db.prepare(
          `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = COALESCE(delivered_at, ?),
             last_error = NULL, lease_owner = NULL, lease_until = NULL WHERE id = ?`,
        ).run(now, id)
      })
    },
    markAttemptFailed(id, error, nextAttemptAt, owner) {
      return group.run(() => {
        db.prepare(
          `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at),
             state = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END, lease_owner = NULL, lease_until = NULL
           WHERE id = ? AND state = 'pending' AND (? IS NULL OR lease_owner IS NULL OR lease_owner = ?)`,
        ).run(error, nextAttemptAt ?? null, nextAttemptAt ?? null, id, owner ?? null, owner ?? null)
      })
    },
    async getOutbox(id) {
      const row = db.prepare<[number], OutboxRow>(`${outboxSelect} WHERE o.id = ?`).get(id)
      return row ? toOutbox(row) : undefined
    },
    async outboxForOrder(partner, outTradeNo) {
      return db
        .prepare<[string, string], OutboxRow>(
          `${outboxSelect} WHERE n.partner = ? AND n.out_trade_no = ? ORDER BY o.id`,
        )
        .all(partner, outTradeNo)
        .map(toOutbox)
    },
    async outboxCounts() {
      const rows = db
        .prepare<[], { state: OutboxItem['state']; n: number }>(
          'SELECT state, COUNT(*) AS n FROM outbox GROUP BY state',
        )
        .all()
      return countsOf(rows)
    },
    async sessionCounts() {
      const rows = db
        .prepare<[], { status: string; n: number }>('SELECT status, count(*) AS n FROM sessions GROUP BY status')
        .all()
      return Object.fromEntries(rows.map((row) => [row.status, row.n]))
    },
    async pendingOutbox() {
      const row = db
        .prepare<[], { depth: number; oldest: number | null }>(
          `SELECT count(*) AS depth, min(n.received_at) AS oldest FROM outbox o
           JOIN notifies n ON n.id = o.notify_row WHERE o.state = 'pending'`,
        )
        .get()
      return { depth: row?.depth ?? 0, oldestReceivedAt: row?.oldest ?? undefined }
    },
    async countNotifies(partner, notifyId) {
      const row = db
        .prepare<[string, string], { n: number }>(
          'SELECT COUNT(*) AS n FROM notifies WHERE partner = ? AND notify_id = ?',
        )
        .get(partner, notifyId)
      return row?.n ?? 0
    },
    async migrationStatus() {
      const version = db.pragma('user_version', { simple: true }) as number
      return { version, pending: Math.max(0, SQLITE_VERSION - version) }
    },
    async close() {
      group.flush()
      db.close()
    },
  }
}
