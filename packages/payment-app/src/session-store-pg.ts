import {
  createPgBatch,
  createPgGroupCommit,
  migratePgDatabase,
  openPgPool,
  openPgStorePool,
  pgMigrationStatus,
  withPgTransaction,
  type PgMigration,
  type PgQueryable,
  type PgSchema,
  type PgStoreOptions,
} from '@alipay-payment-handler/server-runtime'
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
import {
  OPEN_STATUSES,
  type NotifySettlement,
  type StoredNotify,
  type SessionPatch,
  type SessionStore,
  type SettledBy,
} from './session-store.js'

/** The component name of these tables in `schema_migrations`. */
const COMPONENT = 'payment-app'

/** The same tables as the SQLite store's; times are epoch milliseconds (BIGINT), amounts decimal text. */
export const SESSION_PG_MIGRATIONS: readonly PgMigration[] = [
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
        expires_at BIGINT NOT NULL,
        window_closed INTEGER NOT NULL DEFAULT 0,
        next_poll_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        seq BIGSERIAL NOT NULL
      );
      CREATE INDEX sessions_order ON sessions (partner, out_trade_no);
      CREATE INDEX sessions_poll ON sessions (status, next_poll_at);
      CREATE TABLE notifies (
        id BIGSERIAL PRIMARY KEY,
        partner TEXT NOT NULL,
        notify_id TEXT NOT NULL,
        out_trade_no TEXT,
        trade_status TEXT,
        session_id TEXT REFERENCES sessions (id),
        body TEXT NOT NULL,
        content_type TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        UNIQUE (partner, notify_id)
      );
      CREATE INDEX notifies_order ON notifies (partner, out_trade_no);
      CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        notify_row BIGINT NOT NULL REFERENCES notifies (id),
        target_url TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        last_error TEXT,
        delivered_at BIGINT,
        lease_owner TEXT,
        lease_until BIGINT
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
    `,
  },
  {
    // Orders their merchant cancelled: no new session opens for them (docs/security.md, rule 3).
    version: 2,
    sql: `
      CREATE TABLE revoked_orders (
        partner TEXT NOT NULL,
        out_trade_no TEXT NOT NULL,
        revoked_at BIGINT NOT NULL,
        PRIMARY KEY (partner, out_trade_no)
      );
    `,
  },
  {
    // rate-limiter-flexible's table, created here so every process counts from its first request
    // (the library would create it lazily, and count in memory until then).
    version: 3,
    sql: `
      CREATE TABLE IF NOT EXISTS rate_limits (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      );
    `,
  },
]

const OUTBOX_COLUMNS = `o.id, o.notify_row, o.target_url, o.attempts, o.next_attempt_at, o.state, o.last_error,
  n.body, n.content_type`

/**
 * A group's notifies, outbox jobs and session settlements in one statement, so one round trip and
 * one transaction (a single statement commits or fails as a whole) however many notifies the
 * group holds. Arrays, one element per notify; a duplicate notify_id inserts nothing, so gets no
 * job and settles nothing. A settlement moves an open session to paid (`paid`), or fills in the
 * signed set of a session already paid without one, say by the poller (`filled`). The two UPDATEs
 * take disjoint rows (open or paid in the statement's snapshot), so no row is updated twice.
 */
const RECORD_NOTIFIES_SQL = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::bigint[], $9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::bigint[])
      WITH ORDINALITY AS t(partner, notify_id, out_trade_no, trade_status, session_id, body, content_type,
        received_at, target_url, queued_at, settle_session, outcome_json, trade_no, settled_at, ord)
  ), stored AS (
    INSERT INTO notifies (partner, notify_id, out_trade_no, trade_status, session_id, body, content_type, received_at)
    SELECT partner, notify_id, out_trade_no, trade_status, session_id, body, content_type, received_at
    FROM input ORDER BY ord
    ON CONFLICT (partner, notify_id) DO NOTHING
    RETURNING id, partner, notify_id
  ), fresh AS (
    SELECT input.*, stored.id FROM input JOIN stored USING (partner, notify_id)
  ), queued AS (
    INSERT INTO outbox (notify_row, target_url, next_attempt_at, state)
    SELECT id, target_url, queued_at, 'pending' FROM fresh WHERE target_url IS NOT NULL ORDER BY ord
  ), paid AS (
    UPDATE sessions s SET status = 'paid', outcome_json = f.outcome_json, trade_no = COALESCE(f.trade_no, s.trade_no),
      next_poll_at = NULL, updated_at = f.settled_at
    FROM fresh f WHERE s.id = f.settle_session AND s.status = ANY($15::text[])
    RETURNING s.id
  ), filled AS (
    UPDATE sessions s SET outcome_json = f.outcome_json, updated_at = f.settled_at
    FROM fresh f WHERE s.id = f.settle_session AND s.status = 'paid' AND s.outcome_json IS NULL
    RETURNING s.id
  )
  SELECT f.ord, f.id, f.settle_session IN (SELECT id FROM paid) AS paid,
    f.settle_session IN (SELECT id FROM filled) AS filled
  FROM fresh f`

const MARK_DELIVERED_SQL = `
  UPDATE outbox o SET state = 'delivered', attempts = o.attempts + 1, delivered_at = COALESCE(o.delivered_at, v.at),
    last_error = NULL, lease_owner = NULL, lease_until = NULL
  FROM unnest($1::bigint[], $2::bigint[]) AS v (id, at) WHERE o.id = v.id`

/**
 * For each arriving notify: whether it is stored already, and the newest session of its order
 * (none without an order number). `ord` is the notify's place in the arrays, from 1.
 */
const NOTIFY_ARRIVALS_SQL = `
  SELECT a.ord, EXISTS (SELECT 1 FROM notifies n WHERE n.partner = a.partner AND n.notify_id = a.notify_id)
      AS notify_stored, s.*
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a (partner, notify_id, out_trade_no, ord)
  LEFT JOIN LATERAL (
    SELECT * FROM sessions WHERE partner = a.partner AND out_trade_no = a.out_trade_no
    ORDER BY created_at DESC, seq DESC LIMIT 1
  ) s ON true`

interface ArrivalRead {
  partner: string
  notifyId: string
  outTradeNo: string | undefined
}

type NotifyArrival = Awaited<ReturnType<SessionStore['notifyArrival']>>

/** One notify of a group: what `recordNotify` was given. */
interface NotifyWrite {
  notify: Omit<StoredNotify, 'id'>
  targetUrl: string | undefined
  now: number
  settlement: NotifySettlement | undefined
}

type NotifyOutcome = { inserted: boolean; id?: number; settled: SettledBy }

/** Writes a group of notifies: see `RECORD_NOTIFIES_SQL`. */
async function recordNotifies(db: PgQueryable, writes: readonly NotifyWrite[]): Promise<NotifyOutcome[]> {
  const column = <T>(pick: (write: NotifyWrite) => T) => writes.map(pick)
  const settledAt = Date.now()
  const result = await db.query<{ ord: string; id: number; paid: boolean | null; filled: boolean | null }>({
    name: 'payment-app.record-notifies',
    text: RECORD_NOTIFIES_SQL,
    values: [
      column((w) => w.notify.partner),
      column((w) => w.notify.notifyId),
      column((w) => w.notify.outTradeNo ?? null),
      column((w) => w.notify.tradeStatus ?? null),
      column((w) => w.notify.sessionId ?? null),
      column((w) => w.notify.body),
      column((w) => w.notify.contentType),
      column((w) => w.notify.receivedAt),
      column((w) => w.targetUrl ?? null),
      column((w) => w.now),
      column((w) => w.settlement?.sessionId ?? null),
      column((w) => (w.settlement ? JSON.stringify(w.settlement.outcome) : null)),
      column((w) => w.settlement?.tradeNo || null),
      column(() => settledAt),
      [...OPEN_STATUSES],
    ],
  })
  const outcomes: NotifyOutcome[] = writes.map(() => ({ inserted: false, settled: undefined }))
  for (const row of result.rows) {
    const settled: SettledBy = row.paid ? 'status' : row.filled ? 'outcome' : undefined
    outcomes[Number(row.ord) - 1] = { inserted: true, id: row.id, settled }
  }
  return outcomes
}

export type PgSessionStoreOptions = PgStoreOptions

const SCHEMA: PgSchema = { component: COMPONENT, migrations: SESSION_PG_MIGRATIONS }

/** Applies the payment app's PostgreSQL migrations and returns how many were missing. */
export function migrateSessionStore(url: string): Promise<number> {
  return migratePgDatabase(url, SCHEMA)
}

/**
 * The signing server's store on PostgreSQL: the same contract as the SQLite store, for several
 * processes on one database. Transitions are compare-and-set in one UPDATE, notifies are unique
 * by (partner, notify_id), outbox jobs are leased with `FOR UPDATE SKIP LOCKED`, and the writes
 * of the relay go through a group commit as on SQLite.
 */
export async function openPgSessionStore(url: string, options: PgSessionStoreOptions = {}): Promise<SessionStore> {
  const pool = await openPgStorePool(url, SCHEMA, { applicationName: 'alipay-payment-app', ...options })
  // Leases and delivered marks commit without waiting for their WAL flush: one lost in a server
  // crash only makes a job deliverable again, and deliveries are at-least-once anyway (the
  // merchant de-duplicates by notify_id). Notifies and their jobs never go through this pool.
  const relaxed = openPgPool(url, {
    applicationName: `${options.applicationName ?? 'alipay-payment-app'} (outbox)`,
    max: 2,
    synchronousCommit: false,
  })
  const group = createPgGroupCommit(pool)
  // A notify is acknowledged only once this batch's transaction committed, synchronously.
  // Two notifies of one id, or settling one session, go in different batches, as if in turn.
  const notifies = createPgBatch((writes: readonly NotifyWrite[]) => recordNotifies(pool, writes), {
    keysOf: (w) => [`notify:${w.notify.partner}:${w.notify.notifyId}`, w.settlement?.sessionId],
  })
  const delivered = createPgBatch(
    async (marks: readonly { id: number; now: number }[]) => {
      await relaxed.query({
        name: 'payment-app.mark-delivered',
        text: MARK_DELIVERED_SQL,
        values: [marks.map((m) => m.id), marks.map((m) => m.now)],
      })
      return marks.map(() => undefined)
    },
    { keysOf: (m) => [String(m.id)] },
  )
  // The arrival reads of the notifies that come in together, in one statement: a read per group
  // instead of one per notify. Reads need no ordering among themselves, so no keys.
  const arrivals = createPgBatch(async (items: readonly ArrivalRead[]) => {
    const result = await pool.query<SessionRow & { ord: string; notify_stored: boolean }>({
      name: 'payment-app.notify-arrivals',
      text: NOTIFY_ARRIVALS_SQL,
      values: [items.map((a) => a.partner), items.map((a) => a.notifyId), items.map((a) => a.outTradeNo ?? null)],
    })
    const answers: NotifyArrival[] = items.map(() => ({ stored: false, session: undefined }))
    for (const row of result.rows) {
      answers[Number(row.ord) - 1] = { stored: row.notify_stored, session: row.id ? toSession(row) : undefined }
    }
    return answers
  })
  let closed = false
  const one = async <R extends object>(db: PgQueryable, sql: string, values: unknown[]): Promise<R | undefined> =>
    (await db.query<R>(sql, values)).rows[0]
  /** The same, as a named (prepared once per connection) statement: for the ones each notify runs. */
  const onePrepared = async <R extends object>(name: string, sql: string, values: unknown[]) =>
    (await pool.query<R>({ name, text: sql, values })).rows[0]

  const updateSession = async (
    db: PgQueryable,
    id: string,
    patch: SessionPatch,
    onlyFrom?: readonly string[],
  ): Promise<boolean> => {
    const values: unknown[] = [id, Date.now()]
    const sets = ['updated_at = $2']
    const set = (column: string, value: unknown) => {
      values.push(value)
      sets.push(`${column} = $${values.length}`)
    }
    if (patch.status !== undefined) set('status', patch.status)
    if (patch.outcome !== undefined) set('outcome_json', JSON.stringify(patch.outcome))
    if (patch.tradeNo !== undefined) set('trade_no', patch.tradeNo)
    if (patch.windowClosed !== undefined) set('window_closed', patch.windowClosed ? 1 : 0)
    if (patch.nextPollAt !== undefined) set('next_poll_at', patch.nextPollAt)
    let where = 'id = $1'
    if (onlyFrom) {
      values.push([...onlyFrom])
      where += ` AND status = ANY($${values.length}::text[])`
    }
    const result = await db.query(`UPDATE sessions SET ${sets.join(', ')} WHERE ${where}`, values)
    return result.rowCount === 1
  }

  return {
    kind: 'postgres',
    sharedPool: pool,
    async insertSession(s) {
      await pool.query(
        `INSERT INTO sessions (id, partner, payment_request_id, merchant_origin, out_trade_no, subject, total_fee, device,
           merchant_notify_url, request_json, status, outcome_json, trade_no, expires_at, window_closed, next_poll_at,
           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
        sessionValues(s),
      )
    },
    async getSession(id) {
      const row = await one<SessionRow>(pool, 'SELECT * FROM sessions WHERE id = $1', [id])
      return row ? toSession(row) : undefined
    },
    async orderStanding(partner, outTradeNo) {
      const row = await onePrepared<{ revoked: boolean; paid: boolean }>(
        'payment-app.order-standing',
        `SELECT EXISTS (SELECT 1 FROM revoked_orders WHERE partner = $1 AND out_trade_no = $2) AS revoked,
           EXISTS (SELECT 1 FROM sessions WHERE partner = $1 AND out_trade_no = $2 AND status = 'paid') AS paid`,
        [partner, outTradeNo],
      )
      return { revoked: row?.revoked === true, paid: row?.paid === true }
    },
    async latestSession(partner, outTradeNo) {
      const row = await onePrepared<SessionRow>(
        'payment-app.latest-session',
        `SELECT * FROM sessions WHERE partner = $1 AND out_trade_no = $2 ORDER BY created_at DESC, seq DESC LIMIT 1`,
        [partner, outTradeNo],
      )
      return row ? toSession(row) : undefined
    },
    updateSession: (id, patch, onlyFrom) => updateSession(pool, id, patch, onlyFrom),
    async cancelOpenSessionsForOrder(partner, outTradeNo, outcome) {
      return withPgTransaction(pool, async (client) => {
        const now = Date.now()
        await client.query(
          `INSERT INTO revoked_orders (partner, out_trade_no, revoked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
          [partner, outTradeNo, now],
        )
        const moved = await client.query<{ id: string }>(
          `UPDATE sessions SET status = 'cancelled', outcome_json = $1, next_poll_at = NULL, updated_at = $2
           WHERE partner = $3 AND out_trade_no = $4 AND status IN ('created', 'at_cashier') RETURNING id`,
          [JSON.stringify(outcome), now, partner, outTradeNo],
        )
        return moved.rows.map((row) => row.id)
      })
    },
    async dueForPoll(now, limit) {
      const result = await pool.query<SessionRow>(
        `SELECT * FROM sessions
         WHERE status IN ('created', 'at_cashier') AND (window_closed = 1 OR expires_at <= $1)
           AND (next_poll_at IS NULL OR next_poll_at <= $1)
         ORDER BY next_poll_at NULLS FIRST LIMIT $2`,
        [now, limit],
      )
      return result.rows.map(toSession)
    },
    async hasNotify(partner, notifyId) {
      return (
        (await onePrepared(
          'payment-app.has-notify',
          'SELECT 1 AS one FROM notifies WHERE partner = $1 AND notify_id = $2',
          [partner, notifyId],
        )) !== undefined
      )
    },
    notifyArrival(partner, notifyId, outTradeNo) {
      return arrivals.run({ partner, notifyId, outTradeNo })
    },
    recordNotify(notify, targetUrl, now, settlement) {
      return notifies.run({ notify, targetUrl, now, settlement })
    },
    async paidNotifyFor(partner, outTradeNo) {
      const row = await one<NotifyRow>(
        pool,
        `SELECT * FROM notifies WHERE partner = $1 AND out_trade_no = $2
           AND trade_status IN ('TRADE_SUCCESS', 'TRADE_FINISHED') ORDER BY id DESC LIMIT 1`,
        [partner, outTradeNo],
      )
      return row ? toNotify(row) : undefined
    },
    async leaseOutbox(owner, now, limit, leaseMs) {
      // SKIP LOCKED: a second process leasing at the same moment takes the next rows instead of
      // waiting for these; the lease columns keep them taken after this statement commits.
      const result = await relaxed.query<OutboxRow>({
        name: 'payment-app.lease-outbox',
        text: `WITH leased AS (
           UPDATE outbox SET lease_owner = $1, lease_until = $2
           WHERE id IN (
             SELECT id FROM outbox
             WHERE state = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
             ORDER BY next_attempt_at, id LIMIT $4
             FOR UPDATE SKIP LOCKED)
           RETURNING *)
         SELECT ${OUTBOX_COLUMNS} FROM leased o JOIN notifies n ON n.id = o.notify_row ORDER BY o.next_attempt_at, o.id`,
        values: [owner, now + leaseMs, now, limit],
      })
      return result.rows.map(toOutbox)
    },
    markDelivered(id, now) {
      return delivered.run({ id, now })
    },
    markAttemptFailed(id, error, nextAttemptAt, owner) {
      return group.run(async (client) => {
        await client.query(
          `UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = COALESCE($2, next_attempt_at),
             state = CASE WHEN $2::bigint IS NULL THEN 'failed' ELSE 'pending' END, lease_owner = NULL, lease_until = NULL
           WHERE id = $3 AND state = 'pending' AND ($4::text IS NULL OR lease_owner IS NULL OR lease_owner = $4)`,
          [error, nextAttemptAt ?? null, id, owner ?? null],
        )
      })
    },
    async getOutbox(id) {
      const row = await one<OutboxRow>(
        pool,
        `SELECT ${OUTBOX_COLUMNS} FROM outbox o JOIN notifies n ON n.id = o.notify_row WHERE o.id = $1`,
        [id],
      )
      return row ? toOutbox(row) : undefined
    },
    async outboxForOrder(partner, outTradeNo) {
      const result = await pool.query<OutboxRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox o JOIN notifies n ON n.id = o.notify_row
         WHERE n.partner = $1 AND n.out_trade_no = $2 ORDER BY o.id`,
        [partner, outTradeNo],
      )
      return result.rows.map(toOutbox)
    },
    async outboxCounts() {
      const result = await pool.query<{ state: 'pending' | 'delivered' | 'failed'; n: number }>(
        'SELECT state, COUNT(*)::int AS n FROM outbox GROUP BY state',
      )
      return countsOf(result.rows)
    },
    async sessionCounts() {
      const result = await pool.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM sessions GROUP BY status',
      )
      return Object.fromEntries(result.rows.map((row) => [row.status, row.n]))
    },
    async pendingOutbox() {
      const row = await one<{ depth: number; oldest: string | null }>(
        pool,
        `SELECT count(*)::int AS depth, min(n.received_at) AS oldest FROM outbox o
         JOIN notifies n ON n.id = o.notify_row WHERE o.state = 'pending'`,
        [],
      )
      // BIGINT arrives as text from pg; epoch milliseconds fit a double exactly.
      return { depth: row?.depth ?? 0, oldestReceivedAt: row?.oldest == null ? undefined : Number(row.oldest) }
    },
    async countNotifies(partner, notifyId) {
      const row = await one<{ n: number }>(
        pool,
        'SELECT COUNT(*)::int AS n FROM notifies WHERE partner = $1 AND notify_id = $2',
        [partner, notifyId],
      )
      return row?.n ?? 0
    },
    migrationStatus: () => pgMigrationStatus(pool, SCHEMA.component, SCHEMA.migrations),
    async close() {
      if (closed) return
      closed = true
      await Promise.all([group.flush(), notifies.flush(), delivered.flush(), arrivals.flush()])
      await Promise.all([pool.end(), relaxed.end()])
    },
  }
}
