import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { Child, createLoadClient, freePort, random, sleep } from '../support/load.js'

/** What one chaos run does. */
export interface ChaosOptions {
  payments: number
  senders: number
  /** SIGKILLs of each child (relay and merchant), at random points of the run. */
  killsEach: number
  /** Orders that are never paid, attacked with forged notifies during the run. */
  decoys?: number
  /** Gives up (fails) when the backlog has not drained by then. */
  drainTimeoutMs?: number
  seed?: number
  /**
   * Sandbox time scale (retry gaps, expiries). The gateway retries for about 25 h; at 0.001 that is
   * 90 s, shorter than a long run under load, so long runs use 0.01 (about 15 min). Default 0.001.
   */
  timeScale?: number
  log?: (line: string) => void
}

/** The figures of a run, as written to bench/results.json. */
export interface ChaosFigures {
  payments: number
  senders: number
  durationSeconds: number
  /** Paid at the merchant per second, from the first pay request to the last acknowledged notify. */
  throughputPerSecond: number
  faults: {
    sigkills: { relay: number; merchant: number }
    /** Notify attempts the sandbox sent (each POSTed twice: duplicateNotify is on throughout). */
    deliveredAttempts: number
    /** Attempts the sandbox dropped on purpose (first of each notify, and fail-next drops). */
    droppedAttempts: number
    gateway5xxWindows: number
    failNext: number
    forgedNotifies: number
  }
  retries: { gatewayAttemptsBeyondFirst: number; relayAttemptsBeyondFirst: number; senderRetries: number }
  recovery: { restartMeanMs: number; restartMaxMs: number; drainAfterLastKillMs: number }
  /** Orders the merchant's scheduled reconciliation paid (gateway query) before their notify came. */
  repairedByReconciliation: number
  results: {
    paidAtGateway: number
    paidAtMerchant: number
    lost: number
    duplicated: number
    paidWithoutVerifiedNotify: number
    notifiesUnacknowledged: number
    relayUndelivered: number
    decoysPaid: number
  }
}

/**
 * Runs sandbox → relay → merchant under load and faults: `payments` payments by `senders`
 * concurrent senders, while the sandbox duplicates, reorders, delays and drops notifies and
 * answers 5xx, and the relay and the merchant are SIGKILLed and restarted. Then waits for the
 * backlog to drain and counts, from the three SQLite files, what was paid, lost or duplicated.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosFigures> {
  const log = options.log ?? (() => {})
  const rand = random(options.seed ?? Date.now())
  const dir = mkdtempSync(join(tmpdir(), 'alipay-chaos-'))
  let sandbox: RunningSandbox | undefined
  const children: Child[] = []
  try {
    // At 0.001 the first retry gap becomes 240 ms and the whole schedule (≈ 25 h) about 90 s.
    sandbox = await startSandbox(
      demoSandboxConfig({
        port: 0,
        dbPath: join(dir, 'sandbox.db'),
        timeScale: options.timeScale ?? 0.001,
        notifyTimeoutMs: 5_000,
        log: () => {},
      }),
    )
    const relayPort = await freePort()
    const merchantPort = await freePort()
    const relayUrl = `http://localhost:${relayPort}`
    const merchantUrl = `http://localhost:${merchantPort}`
    const relay = new Child(
      'relay',
      'tests/chaos/relay-main.ts',
      {
        CHAOS_PORT: String(relayPort),
        CHAOS_DB: join(dir, 'signing.db'),
        CHAOS_GATEWAY_URL: sandbox.gatewayUrl,
        CHAOS_MERCHANT_ORIGIN: merchantUrl,
      },
      log,
      '[chaos]',
    )
    const merchant = new Child(
      'merchant',
      'tests/chaos/merchant-main.ts',
      { CHAOS_PORT: String(merchantPort), CHAOS_DATA_DIR: dir, CHAOS_GATEWAY_URL: sandbox.gatewayUrl },
      log,
      '[chaos]',
    )
    children.push(relay, merchant)
    await Promise.all([relay.start(), merchant.start()])

    const client = createLoadClient({ merchantUrl, relayUrl, sandboxUrl: sandbox.url }, rand, '[alipay-chaos]')
    const { pay } = client
    // Decoys: orders that stay unpaid, and get forged "paid" notifies during the run.
    const decoys = await client.decoys(options.decoys ?? 5)
    await client.standingFaults()

    const started = Date.now()
    const total = options.payments
    let issued = 0
    let done = 0
    const paidOrders: string[] = []
    const senders = Array.from({ length: options.senders }, async () => {
      while (issued < total) {
        issued++
        paidOrders.push(await pay())
        done++
      }
    })

    // The chaos monkey: kills at random points of the run, 5xx windows, one-shot failures, forgeries.
    const killPoints = [
      ...Array.from({ length: options.killsEach }, () => ({ at: rand(), who: relay })),
      ...Array.from({ length: options.killsEach }, () => ({ at: rand(), who: merchant })),
    ].sort((a, b) => a.at - b.at)
    let lastKillAt = 0
    let sendersDone = false
    let reported = 0
    const monkey = (async () => {
      while (!sendersDone) {
        const progress = done / total
        // A line per tenth of the run, so a long run shows its pace while it goes.
        if (Math.floor(progress * 10) > reported) {
          reported = Math.floor(progress * 10)
          const seconds = (Date.now() - started) / 1000
          log(`[chaos] ${reported * 10} % paid at the gateway, ${(done / seconds).toFixed(1)}/s`)
        }
        const next = killPoints[0]
        if (next && progress >= next.at) {
          killPoints.shift()
          log(`[chaos] SIGKILL ${next.who.name} at ${(progress * 100).toFixed(0)} %`)
          await next.who.killAndRestart()
          lastKillAt = Date.now()
          continue
        }
        await client.faultStep(decoys)
        await sleep(100)
      }
    })()
    await Promise.all(senders)
    sendersDone = true
    await monkey
    // Kills that were due after the last sender finished still happen: during the drain.
    for (const point of killPoints) {
      log(`[chaos] SIGKILL ${point.who.name} during the drain`)
      await point.who.killAndRestart()
      lastKillAt = Date.now()
    }
    await client.clearFaults()
    log(`[chaos] ${total} payments sent in ${Date.now() - started} ms; draining`)

    // Drain: every paid trade's notify acknowledged and every order paid at the merchant.
    const merchantDb = join(dir, 'merchant-orders.db')
    const deadline = Date.now() + (options.drainTimeoutMs ?? 180_000)
    const paidAtMerchant = (): number => {
      const db = new Database(merchantDb, { readonly: true, fileMustExist: true })
      try {
        return (db.prepare(`SELECT count(*) AS n FROM orders WHERE state = 'success'`).get() as { n: number }).n
      } finally {
        db.close()
      }
    }
    const relayBacklog = (): number => {
      const db = new Database(join(dir, 'signing.db'), { readonly: true, fileMustExist: true })
      try {
        return (db.prepare(`SELECT count(*) AS n FROM outbox WHERE state = 'pending'`).get() as { n: number }).n
      } finally {
        db.close()
      }
    }
    let drainedAt = Date.now()
    for (;;) {
      // A count, not a listing: the sandbox shares this process, and reading thousands of rows
      // every 200 ms would slow the very notify_verify answers the drain waits on.
      const pending = (
        sandbox.deps.store.db
          .prepare(`SELECT count(*) AS n FROM notifies WHERE state IN ('pending', 'held')`)
          .get() as { n: number }
      ).n
      const paid = paidAtMerchant()
      // The relay's own backlog too: a relay killed during the drain still owes its retries.
      if (pending === 0 && paid >= total && relayBacklog() === 0) {
        drainedAt = Date.now()
        break
      }
      if (Date.now() > deadline) {
        log(
          `[chaos] drain timed out: ${pending} notifies pending, ${paid}/${total} paid, relay backlog ${relayBacklog()}`,
        )
        drainedAt = Date.now()
        break
      }
      await sleep(200)
    }
    const durationMs = drainedAt - started

    // The counting, from the three databases.
    const notifies = sandbox.deps.store.listNotifies(total * 4 + 100)
    const tradeNotifies = notifies.filter((n) => n.kind === 'trade_status_sync')
    const gatewayAttempts = tradeNotifies.reduce((sum, n) => sum + Math.max(0, n.attempts - 1), 0)
    const notifiesUnacknowledged = tradeNotifies.filter((n) => n.state !== 'delivered').length
    const sandboxDb = new Database(join(dir, 'sandbox.db'), { readonly: true })
    const paidTrades = new Set(
      (
        sandboxDb
          .prepare(`SELECT outTradeNo FROM trades WHERE status IN ('TRADE_SUCCESS', 'TRADE_FINISHED')`)
          .all() as { outTradeNo: string }[]
      ).map((t) => t.outTradeNo),
    )
    const paidAtGateway = paidOrders.filter((id) => paidTrades.has(id)).length
    const attemptOutcomes = new Map(
      (
        sandboxDb.prepare(`SELECT outcome, count(*) AS n FROM notify_attempts GROUP BY outcome`).all() as {
          outcome: string
          n: number
        }[]
      ).map((r) => [r.outcome, r.n]),
    )
    sandboxDb.close()

    const db = new Database(merchantDb, { readonly: true })
    const orders = db.prepare(`SELECT order_id AS orderId, state, amount FROM orders`).all() as {
      orderId: string
      state: string
      amount: string
    }[]
    // How each order became paid: a notify that verified ("paid"), or a reconciliation repair
    // (the merchant's scheduled single_trade_query after a restart, audited in order_audit).
    const paidRows = db
      .prepare(`SELECT order_id AS orderId, count(*) AS n FROM order_notifies WHERE outcome = 'paid' GROUP BY order_id`)
      .all() as { orderId: string; n: number }[]
    const repairRows = db
      .prepare(
        `SELECT order_id AS orderId, count(*) AS n FROM order_audit WHERE to_state = 'success' AND applied = 1 GROUP BY order_id`,
      )
      .all() as { orderId: string; n: number }[]
    db.close()
    const paidCount = new Map<string, number>()
    for (const row of [...paidRows, ...repairRows])
      paidCount.set(row.orderId, (paidCount.get(row.orderId) ?? 0) + row.n)
    const byId = new Map(orders.map((o) => [o.orderId, o]))
    const lost = paidOrders.filter((id) => byId.get(id)?.state !== 'success').length
    // Paid twice: more than one transition to paid for one order, whatever the path.
    const duplicated = [...paidCount.values()].filter((n) => n > 1).length
    // Every paid order was paid by gateway proof: a verified notify or an audited gateway query.
    const paidWithoutVerifiedNotify = orders.filter((o) => o.state === 'success' && !paidCount.get(o.orderId)).length
    const decoysPaid = decoys.filter((id) => byId.get(id)?.state === 'success').length

    const relayDb = new Database(join(dir, 'signing.db'), { readonly: true })
    const outbox = relayDb.prepare(`SELECT state, attempts FROM outbox`).all() as { state: string; attempts: number }[]
    relayDb.close()
    const relayUndelivered = outbox.filter((o) => o.state !== 'delivered').length
    const relayAttempts = outbox.reduce((sum, o) => sum + Math.max(0, o.attempts - 1), 0)

    const { senderRetries, gateway5xxWindows, failNext, forgedNotifies } = client.counts()
    const restarts = [...relay.restarts, ...merchant.restarts]
    return {
      payments: total,
      senders: options.senders,
      durationSeconds: Math.round(durationMs / 100) / 10,
      throughputPerSecond: Math.round((total / (durationMs / 1000)) * 10) / 10,
      faults: {
        sigkills: { relay: relay.kills, merchant: merchant.kills },
        deliveredAttempts: (attemptOutcomes.get('success') ?? 0) + (attemptOutcomes.get('failure') ?? 0),
        droppedAttempts: attemptOutcomes.get('dropped') ?? 0,
        gateway5xxWindows,
        failNext,
        forgedNotifies,
      },
      retries: {
        gatewayAttemptsBeyondFirst: gatewayAttempts,
        relayAttemptsBeyondFirst: relayAttempts,
        senderRetries,
      },
      recovery: {
        restartMeanMs: restarts.length ? Math.round(restarts.reduce((a, b) => a + b, 0) / restarts.length) : 0,
        restartMaxMs: restarts.length ? Math.max(...restarts) : 0,
        drainAfterLastKillMs: lastKillAt ? Math.max(0, drainedAt - lastKillAt) : 0,
      },
      repairedByReconciliation: repairRows.length,
      results: {
        paidAtGateway,
        paidAtMerchant: paidAtMerchant(),
        lost,
        duplicated,
        paidWithoutVerifiedNotify,
        notifiesUnacknowledged,
        relayUndelivered,
        decoysPaid,
      },
    }
  } finally {
    for (const child of children) await child.stop().catch(() => undefined)
    await sandbox?.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}
