import Database from 'better-sqlite3'
import type { TradeStatus } from '@alipay-payment-handler/protocol'

/** One trade as the sandbox keeps it. Amounts are decimal strings; times are epoch ms. */
export interface Trade {
  tradeNo: string
  partner: string
  outTradeNo: string
  service: string
  status: TradeStatus
  charset: string
  signType: string
  subject: string
  body: string | null
  totalFee: string
  price: string
  quantity: string
  sellerId: string
  sellerEmail: string
  /** Buyer the request asked for (buyer_id / buyer_email), if any. */
  wantedBuyer: string | null
  buyerId: string | null
  buyerEmail: string | null
  notifyUrl: string | null
  returnUrl: string | null
  showUrl: string | null
  extraCommonParam: string | null
  itBPay: string | null
  /** JSON of the signed business fields, to spot a resubmission with different data. */
  fingerprint: string
  cashierToken: string
  expiresAt: number | null
  finishAt: number | null
  createdAt: number
  paidAt: number | null
  closedAt: number | null
  modifiedAt: number
  refundedFee: string
  refundStatus: string | null
  refundedAt: number | null
  /** The signed return URL made at payment, so every later redirect uses the same one. */
  returnTarget: string | null
  businessScene: string | null
  /**
   * When the trade came to exist at the gateway: mapi at the pay request; openapi page and WAP
   * trades at the payer's login, QR trades at the scan (openapi-protocol §10.4). Null until then.
   */
  visibleAt: number | null
}

/** States of one notify: held back by a fault, waiting, acknowledged, or given up after the last try. */
export type NotifyState = 'held' | 'pending' | 'delivered' | 'failed'

/** One asynchronous notification and its delivery state. */
export interface Notify {
  id: number
  notifyId: string
  partner: string
  tradeNo: string | null
  kind: 'trade_status_sync' | 'batch_refund_notify'
  url: string
  charset: string
  signType: string
  /** JSON of the parameters without notify_time, sign_type and sign (added per delivery). */
  params: string
  state: NotifyState
  attempts: number
  nextAttemptAt: number
  createdAt: number
  ackedAt: number | null
  /**
   * A body signed once and POSTed as is on every attempt (openapi: retries resend the identical
   * signed set, openapi-protocol §10.4); null when each attempt is signed anew (mapi).
   */
  fixedBody: string | null
  /** The exact body of the last POST, kept so a replay can send the same bytes again. */
  lastBody: string | null
}

/** One delivery attempt of a notify, as the inspector shows it. */
export interface NotifyAttempt {
  id: number
  notifyRowId: number
  attemptNo: number
  at: number
  status: number | null
  bodyExcerpt: string | null
  error: string | null
  /** `replayed`: a trigger re-sent the last body outside the schedule (attemptNo 0). */
  outcome: 'success' | 'failure' | 'dropped' | 'replayed'
}

/** A refund batch (refund_fastpay_by_platform_nopwd). */
export interface RefundBatch {
  partner: string
  batchNo: string
  createdAt: number
  detailData: string
  resultDetails: string
  successNum: number
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS trades (
  tradeNo TEXT PRIMARY KEY, partner TEXT NOT NULL, outTradeNo TEXT NOT NULL, service TEXT NOT NULL,
  status TEXT NOT NULL, charset TEXT NOT NULL, signType TEXT NOT NULL, subject TEXT NOT NULL, body TEXT,
  totalFee TEXT NOT NULL, price TEXT NOT NULL, quantity TEXT NOT NULL, sellerId TEXT NOT NULL, sellerEmail TEXT NOT NULL,
  wantedBuyer TEXT, buyerId TEXT, buyerEmail TEXT, notifyUrl TEXT, returnUrl TEXT, showUrl TEXT,
  extraCommonParam TEXT, itBPay TEXT, fingerprint TEXT NOT NULL, cashierToken TEXT NOT NULL UNIQUE,
  expiresAt INTEGER, finishAt INTEGER, createdAt INTEGER NOT NULL, paidAt INTEGER, closedAt INTEGER,
  modifiedAt INTEGER NOT NULL, refundedFee TEXT NOT NULL DEFAULT '0.00', refundStatus TEXT, refundedAt INTEGER,
  returnTarget TEXT, businessScene TEXT,
  UNIQUE (partner, outTradeNo)
);
CREATE TABLE IF NOT EXISTS notifies (
  id INTEGER PRIMARY KEY AUTOINCREMENT, notifyId TEXT NOT NULL UNIQUE, partner TEXT NOT NULL, tradeNo TEXT,
  kind TEXT NOT NULL, url TEXT NOT NULL, charset TEXT NOT NULL, signType TEXT NOT NULL, params TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, nextAttemptAt INTEGER NOT NULL,
  createdAt INTEGER NOT NULL, ackedAt INTEGER
);
CREATE INDEX IF NOT EXISTS notifies_due ON notifies (state, nextAttemptAt);
CREATE TABLE IF NOT EXISTS notify_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, notifyRowId INTEGER NOT NULL REFERENCES notifies (id),
  attemptNo INTEGER NOT NULL, at INTEGER NOT NULL, status INTEGER, bodyExcerpt TEXT, error TEXT, outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS return_ids (
  notifyId TEXT PRIMARY KEY, partner TEXT NOT NULL, tradeNo TEXT NOT NULL, expiresAt INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refund_batches (
  partner TEXT NOT NULL, batchNo TEXT NOT NULL, createdAt INTEGER NOT NULL, detailData TEXT NOT NULL,
  resultDetails TEXT NOT NULL, successNum INTEGER NOT NULL, PRIMARY KEY (partner, batchNo)
);
CREATE TABLE IF NOT EXISTS balances (userId TEXT PRIMARY KEY, balance TEXT NOT NULL);
`

const TRADE_COLUMNS = [
  'tradeNo', 'partner', 'outTradeNo', 'service', 'status', 'charset', 'signType', 'subject', 'body', 'totalFee',
  'price', 'quantity', 'sellerId', 'sellerEmail', 'wantedBuyer', 'buyerId', 'buyerEmail', 'notifyUrl', 'returnUrl',
  'showUrl', 'extraCommonParam', 'itBPay', 'fingerprint', 'cashierToken', 'expiresAt', 'finishAt', 'createdAt',
  'paidAt', 'closedAt', 'modifiedAt', 'refundedFee', 'refundStatus', 'refundedAt', 'returnTarget', 'businessScene',
  'visibleAt',
] as const // prettier-ignore

/** New notify rows: everything but the generated id, delivery counters and the last body. */
export type NewNotify = Omit<Notify, 'id' | 'attempts' | 'ackedAt' | 'fixedBody' | 'lastBody'> & {
  fixedBody?: string | null | undefined
}

// Columns added after the first release: a database made by an older sandbox gets them on open.
const ADDED_COLUMNS: readonly (readonly [table: string, column: string, type: string])[] = [
  ['notifies', 'fixedBody', 'TEXT'],
  ['notifies', 'lastBody', 'TEXT'],
  ['trades', 'visibleAt', 'INTEGER'],
]

/**
 * The sandbox's SQLite store (WAL). Every state change is written before it is acted on, so a
 * restarted sandbox resumes pending notifies and expiries where it stopped.
 */
export class SandboxStore {
  readonly db: Database.Database

  constructor(path: string) {
    this.db = new Database(path)
    if (path !== ':memory:') this.db.pragma('journal_mode = WAL')
    this.db.pragma('foreign_keys = ON')
    this.db.exec(SCHEMA)
    for (const [table, column, type] of ADDED_COLUMNS) {
      const columns = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]
      if (!columns.some((c) => c.name === column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`)
    }
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  insertTrade(trade: Trade): void {
    const cols = TRADE_COLUMNS.join(', ')
    const values = TRADE_COLUMNS.map((c) => `@${c}`).join(', ')
    this.db.prepare(`INSERT INTO trades (${cols}) VALUES (${values})`).run(trade)
  }

  /** Updates the given columns of one trade. */
  updateTrade(tradeNo: string, changes: Partial<Omit<Trade, 'tradeNo'>>): void {
    const keys = Object.keys(changes).filter((k) => (TRADE_COLUMNS as readonly string[]).includes(k))
    if (keys.length === 0) return
    const set = keys.map((k) => `${k} = @${k}`).join(', ')
    this.db.prepare(`UPDATE trades SET ${set} WHERE tradeNo = @tradeNo`).run({ ...changes, tradeNo })
  }

  tradeByNo(tradeNo: string): Trade | undefined {
    return this.db.prepare('SELECT * FROM trades WHERE tradeNo = ?').get(tradeNo) as Trade | undefined
  }

  tradeByOutTradeNo(partner: string, outTradeNo: string): Trade | undefined {
    return this.db.prepare('SELECT * FROM trades WHERE partner = ? AND outTradeNo = ?').get(partner, outTradeNo) as
      Trade | undefined
  }

  /** Trades with this merchant order number, any partner or app, most recent first. */
  tradesByOutTradeNo(outTradeNo: string): Trade[] {
    return this.db
      .prepare('SELECT * FROM trades WHERE outTradeNo = ? ORDER BY createdAt DESC, rowid DESC')
      .all(outTradeNo) as Trade[]
  }

  tradeByCashierToken(token: string): Trade | undefined {
    return this.db.prepare('SELECT * FROM trades WHERE cashierToken = ?').get(token) as Trade | undefined
  }

  /** Most recent trades first. */
  listTrades(limit = 200): Trade[] {
    return this.db.prepare('SELECT * FROM trades ORDER BY createdAt DESC, rowid DESC LIMIT ?').all(limit) as Trade[]
  }

  /** Unpaid trades whose it_b_pay deadline passed, and paid ones whose refund period ended. */
  tradesDueBy(now: number): { expired: Trade[]; finished: Trade[] } {
    const expired = this.db
      .prepare("SELECT * FROM trades WHERE status = 'WAIT_BUYER_PAY' AND expiresAt IS NOT NULL AND expiresAt <= ?")
      .all(now) as Trade[]
    const finished = this.db
      .prepare("SELECT * FROM trades WHERE status = 'TRADE_SUCCESS' AND finishAt IS NOT NULL AND finishAt <= ?")
      .all(now) as Trade[]
    return { expired, finished }
  }

  /** The earliest future deadline of any trade, for the scheduler. */
  nextTradeDeadline(): number | undefined {
    const row = this.db
      .prepare(
        `SELECT MIN(t) AS t FROM (
          SELECT MIN(expiresAt) AS t FROM trades WHERE status = 'WAIT_BUYER_PAY' AND expiresAt IS NOT NULL
          UNION ALL SELECT MIN(finishAt) FROM trades WHERE status = 'TRADE_SUCCESS' AND finishAt IS NOT NULL)`,
      )
      .get() as { t: number | null }
    return row.t ?? undefined
  }

  insertNotify(notify: NewNotify): Notify {
    const info = this.db
      .prepare(
        `INSERT INTO notifies (notifyId, partner, tradeNo, kind, url, charset, signType, params, state, nextAttemptAt, createdAt, fixedBody)
         VALUES (@notifyId, @partner, @tradeNo, @kind, @url, @charset, @signType, @params, @state, @nextAttemptAt, @createdAt, @fixedBody)`,
      )
      .run({ ...notify, fixedBody: notify.fixedBody ?? null })
    return this.notifyByRowId(Number(info.lastInsertRowid))!
  }

  notifyByRowId(id: number): Notify | undefined {
    return this.db.prepare('SELECT * FROM notifies WHERE id = ?').get(id) as Notify | undefined
  }

  notifyByNotifyId(notifyId: string): Notify | undefined {
    return this.db.prepare('SELECT * FROM notifies WHERE notifyId = ?').get(notifyId) as Notify | undefined
  }

  /** `ifDueAt`: change the row only while its next attempt is still due then (no resend came between). */
  updateNotify(
    id: number,
    changes: Partial<Pick<Notify, 'state' | 'attempts' | 'nextAttemptAt' | 'ackedAt' | 'lastBody'>>,
    ifDueAt?: number,
  ): void {
    const keys = Object.keys(changes)
    if (keys.length === 0) return
    const set = keys.map((k) => `${k} = @${k}`).join(', ')
    const where = ifDueAt === undefined ? 'id = @id' : 'id = @id AND nextAttemptAt = @ifDueAt'
    this.db.prepare(`UPDATE notifies SET ${set} WHERE ${where}`).run({ ...changes, id, ifDueAt })
  }

  /** The `limit` notifies due longest ago: a backlog is read a slice at a time, not whole on every wake. */
  dueNotifies(now: number, limit: number): Notify[] {
    return this.db
      .prepare(
        "SELECT * FROM notifies WHERE state = 'pending' AND nextAttemptAt <= ? ORDER BY nextAttemptAt, id LIMIT ?",
      )
      .all(now, limit) as Notify[]
  }

  /** When the next pending or held notify is due. */
  nextNotifyDue(): number | undefined {
    const row = this.db
      .prepare("SELECT MIN(nextAttemptAt) AS t FROM notifies WHERE state IN ('pending', 'held')")
      .get() as { t: number | null }
    return row.t ?? undefined
  }

  /** Held notifies of a trade (out-of-order fault). */
  heldNotifies(tradeNo: string): Notify[] {
    return this.db
      .prepare("SELECT * FROM notifies WHERE state = 'held' AND tradeNo = ? ORDER BY id")
      .all(tradeNo) as Notify[]
  }

  /** Held notifies whose hold ran out. */
  expiredHolds(now: number): Notify[] {
    return this.db
      .prepare("SELECT * FROM notifies WHERE state = 'held' AND nextAttemptAt <= ? ORDER BY id")
      .all(now) as Notify[]
  }

  listNotifies(limit = 500): Notify[] {
    return this.db.prepare('SELECT * FROM notifies ORDER BY id DESC LIMIT ?').all(limit) as Notify[]
  }

  notifiesOfTrade(tradeNo: string): Notify[] {
    return this.db.prepare('SELECT * FROM notifies WHERE tradeNo = ? ORDER BY id').all(tradeNo) as Notify[]
  }

  insertAttempt(attempt: Omit<NotifyAttempt, 'id'>): void {
    this.db
      .prepare(
        `INSERT INTO notify_attempts (notifyRowId, attemptNo, at, status, bodyExcerpt, error, outcome)
         VALUES (@notifyRowId, @attemptNo, @at, @status, @bodyExcerpt, @error, @outcome)`,
      )
      .run(attempt)
  }

  attemptsOf(notifyRowId: number): NotifyAttempt[] {
    return this.db
      .prepare('SELECT * FROM notify_attempts WHERE notifyRowId = ? ORDER BY id')
      .all(notifyRowId) as NotifyAttempt[]
  }

  insertReturnId(notifyId: string, partner: string, tradeNo: string, expiresAt: number): void {
    this.db
      .prepare('INSERT OR REPLACE INTO return_ids (notifyId, partner, tradeNo, expiresAt) VALUES (?, ?, ?, ?)')
      .run(notifyId, partner, tradeNo, expiresAt)
  }

  returnId(notifyId: string): { partner: string; tradeNo: string; expiresAt: number } | undefined {
    return this.db.prepare('SELECT * FROM return_ids WHERE notifyId = ?').get(notifyId) as
      { partner: string; tradeNo: string; expiresAt: number } | undefined
  }

  refundBatch(partner: string, batchNo: string): RefundBatch | undefined {
    return this.db.prepare('SELECT * FROM refund_batches WHERE partner = ? AND batchNo = ?').get(partner, batchNo) as
      RefundBatch | undefined
  }

  insertRefundBatch(batch: RefundBatch): void {
    this.db
      .prepare(
        `INSERT INTO refund_batches (partner, batchNo, createdAt, detailData, resultDetails, successNum)
         VALUES (@partner, @batchNo, @createdAt, @detailData, @resultDetails, @successNum)`,
      )
      .run(batch)
  }

  /** A buyer's balance, seeding it from `initial` the first time. */
  balance(userId: string, initial: string): string {
    this.db.prepare('INSERT OR IGNORE INTO balances (userId, balance) VALUES (?, ?)').run(userId, initial)
    return (this.db.prepare('SELECT balance FROM balances WHERE userId = ?').get(userId) as { balance: string }).balance
  }

  setBalance(userId: string, balance: string): void {
    this.db
      .prepare('INSERT INTO balances (userId, balance) VALUES (?, ?) ON CONFLICT (userId) DO UPDATE SET balance = ?')
      .run(userId, balance, balance)
  }
}
