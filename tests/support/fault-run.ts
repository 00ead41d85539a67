// The run both load suites make (tests/chaos, tests/scale): the sandbox with its fault dice, senders
// paying while processes are SIGKILLed, and the counting of what the gateway and the merchant saw.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { sleep, type Child, type createLoadClient } from './load.js'

type LoadClient = ReturnType<typeof createLoadClient>

/**
 * The sandbox of a load run, its database in `dir`. At a time scale of 0.001 the first notify
 * retry gap becomes 240 ms and the whole schedule (≈ 25 h) about 90 s.
 */
export function startLoadSandbox(dir: string, timeScale = 0.001): Promise<RunningSandbox> {
  return startSandbox(
    demoSandboxConfig({ port: 0, dbPath: join(dir, 'sandbox.db'), timeScale, notifyTimeoutMs: 5_000, log: () => {} }),
  )
}

/** A SIGKILL of `who` once this fraction of the payments is paid at the gateway. */
export interface KillPoint {
  at: number
  who: Child
}

export interface PaymentsUnderFaults {
  /** The order ids paid at the gateway, one per payment. */
  paidOrders: string[]
  started: number
  /** When the last sender finished. */
  sentAt: number
  /** When the last kill's process was up again (0: no kill). */
  lastKillAt: number
}

/**
 * Sends `total` payments from `senders` concurrent senders while, between them, the processes of
 * `killPoints` are SIGKILLed and restarted and the fault dice roll. Kills due after the last sender
 * finished happen during the drain, and the standing faults are cleared at the end.
 */
export async function payUnderFaults(options: {
  client: LoadClient
  total: number
  senders: number
  /**
   * The kills of the run, drawn once the senders have started (the first payments draw from the
   * seeded PRNG before them, so a seed gives the same run as before these suites shared this).
   */
  planKills: () => KillPoint[]
  decoys: string[]
  tag: string
  log: (line: string) => void
}): Promise<PaymentsUnderFaults> {
  const { client, total, decoys, tag, log } = options
  const started = Date.now()
  let issued = 0
  let done = 0
  const paidOrders: string[] = []
  const senders = Array.from({ length: options.senders }, async () => {
    while (issued < total) {
      issued++
      paidOrders.push(await client.pay())
      done++
    }
  })
  const killPoints = options.planKills().sort((a, b) => a.at - b.at)
  let lastKillAt = 0
  let sendersDone = false
  let reported = 0
  const monkey = (async () => {
    while (!sendersDone) {
      const progress = done / total
      // A line per tenth of the run, so a long run shows its pace while it goes.
      if (Math.floor(progress * 10) > reported) {
        reported = Math.floor(progress * 10)
        log(`${tag} ${reported * 10} % paid at the gateway, ${(done / ((Date.now() - started) / 1000)).toFixed(1)}/s`)
      }
      const next = killPoints[0]
      if (next && progress >= next.at) {
        killPoints.shift()
        log(`${tag} SIGKILL ${next.who.name} at ${(progress * 100).toFixed(0)} %`)
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
  const sentAt = Date.now()
  for (const point of killPoints) {
    log(`${tag} SIGKILL ${point.who.name} during the drain`)
    await point.who.killAndRestart()
    lastKillAt = Date.now()
  }
  await client.clearFaults()
  log(`${tag} ${total} payments sent in ${sentAt - started} ms; draining`)
  return { paidOrders, started, sentAt, lastKillAt }
}

/** Notifies the sandbox still has to deliver (or holds back on purpose). */
export function gatewayBacklog(sandbox: RunningSandbox): number {
  // A count, not a listing: the sandbox shares this process, and reading thousands of rows every
  // 200 ms would slow the very notify_verify answers the drain waits on.
  return (
    sandbox.deps.store.db.prepare(`SELECT count(*) AS n FROM notifies WHERE state IN ('pending', 'held')`).get() as {
      n: number
    }
  ).n
}

/** What the gateway recorded: the orders of paid trades and its notify attempts by outcome. */
export function gatewayOutcome(sandbox: RunningSandbox, dir: string, total: number) {
  const tradeNotifies = sandbox.deps.store.listNotifies(total * 4 + 100).filter((n) => n.kind === 'trade_status_sync')
  const db = new Database(join(dir, 'sandbox.db'), { readonly: true })
  try {
    const paidTrades = new Set(
      (
        db.prepare(`SELECT outTradeNo FROM trades WHERE status IN ('TRADE_SUCCESS', 'TRADE_FINISHED')`).all() as {
          outTradeNo: string
        }[]
      ).map((t) => t.outTradeNo),
    )
    const attempts = new Map(
      (
        db.prepare(`SELECT outcome, count(*) AS n FROM notify_attempts GROUP BY outcome`).all() as {
          outcome: string
          n: number
        }[]
      ).map((r) => [r.outcome, r.n]),
    )
    return {
      paidTrades,
      /** Notify attempts the sandbox sent (each POSTed twice: duplicateNotify is on throughout). */
      deliveredAttempts: (attempts.get('success') ?? 0) + (attempts.get('failure') ?? 0),
      /** Attempts the sandbox dropped on purpose (first of each notify, and fail-next drops). */
      droppedAttempts: attempts.get('dropped') ?? 0,
      /** Trade notifies' attempts beyond the first. */
      retriesBeyondFirst: tradeNotifies.reduce((sum, n) => sum + Math.max(0, n.attempts - 1), 0),
      notifiesUnacknowledged: tradeNotifies.filter((n) => n.state !== 'delivered').length,
    }
  } finally {
    db.close()
  }
}

/** How the merchant's orders ended, from its rows (see `LoadStores.merchantOutcomes`). */
export function merchantOutcome(
  rows: {
    orders: { orderId: string; state: string }[]
    paidByNotify: { orderId: string; n: number }[]
    paidByRepair: { orderId: string; n: number }[]
  },
  paidOrders: readonly string[],
  decoys: readonly string[],
) {
  const byId = new Map(rows.orders.map((o) => [o.orderId, o.state]))
  // How each order became paid: a notify that verified, or an audited reconciliation repair (a gateway query).
  const paidCount = new Map<string, number>()
  for (const row of [...rows.paidByNotify, ...rows.paidByRepair])
    paidCount.set(row.orderId, (paidCount.get(row.orderId) ?? 0) + row.n)
  return {
    /** Orders a repair paid (its notify came too late or never). */
    repairedByReconciliation: rows.paidByRepair.length,
    lost: paidOrders.filter((id) => byId.get(id) !== 'success').length,
    /** More than one transition to paid for one order, whatever the path. */
    paidTwice: [...paidCount.values()].filter((n) => n > 1).length,
    /** Paid without gateway proof: neither a verified notify nor an audited gateway query. */
    paidWithoutVerifiedNotify: rows.orders.filter((o) => o.state === 'success' && !paidCount.get(o.orderId)).length,
    decoysPaid: decoys.filter((id) => byId.get(id) === 'success').length,
  }
}

/** Mean and longest time from a SIGKILL until the process was up again. */
export function restartTimes(children: readonly Child[]) {
  const restarts = children.flatMap((c) => c.restarts)
  return {
    restartMeanMs: restarts.length ? Math.round(restarts.reduce((a, b) => a + b, 0) / restarts.length) : 0,
    restartMaxMs: restarts.length ? Math.max(...restarts) : 0,
  }
}
