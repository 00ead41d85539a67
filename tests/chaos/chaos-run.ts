import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunningSandbox } from '@alipay-payment-handler/sandbox'
import {
  gatewayBacklog,
  gatewayOutcome,
  merchantOutcome,
  payUnderFaults,
  restartTimes,
  startLoadSandbox,
} from '../support/fault-run.js'
import { Child, createLoadClient, freePort, random, sleep } from '../support/load.js'
import { openLoadStores, type LoadStores } from '../support/load-stores.js'

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
  let stores: LoadStores | undefined
  const children: Child[] = []
  try {
    sandbox = await startLoadSandbox(dir, options.timeScale)
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
    // The relay's and the merchant's SQLite files in `dir`.
    stores = await openLoadStores({ dir })

    const client = createLoadClient({ merchantUrl, relayUrl, sandboxUrl: sandbox.url }, rand, '[alipay-chaos]')
    // Decoys: orders that stay unpaid, and get forged "paid" notifies during the run.
    const decoys = await client.decoys(options.decoys ?? 5)
    await client.standingFaults()

    // The chaos monkey: kills at random points of the run; between them 5xx windows, one-shot failures, forgeries.
    const planKills = () => [
      ...Array.from({ length: options.killsEach }, () => ({ at: rand(), who: relay })),
      ...Array.from({ length: options.killsEach }, () => ({ at: rand(), who: merchant })),
    ]
    const total = options.payments
    const { paidOrders, started, lastKillAt } = await payUnderFaults({
      client,
      total,
      senders: options.senders,
      planKills,
      decoys,
      tag: '[chaos]',
      log,
    })

    // Drain: every paid trade's notify acknowledged and every order paid at the merchant.
    const deadline = Date.now() + (options.drainTimeoutMs ?? 180_000)
    let drainedAt = Date.now()
    for (;;) {
      const pending = gatewayBacklog(sandbox)
      const paid = await stores.paidAtMerchant()
      // The relay's own backlog too: a relay killed during the drain still owes its retries.
      const backlog = await stores.outboxBacklog()
      if (pending === 0 && paid >= total && backlog === 0) {
        drainedAt = Date.now()
        break
      }
      if (Date.now() > deadline) {
        log(`[chaos] drain timed out: ${pending} notifies pending, ${paid}/${total} paid, relay backlog ${backlog}`)
        drainedAt = Date.now()
        break
      }
      await sleep(200)
    }
    const durationMs = drainedAt - started

    // The counting, from the three databases.
    const gateway = gatewayOutcome(sandbox, dir, total)
    const outcome = merchantOutcome(await stores.merchantOutcomes(), paidOrders, decoys)
    const { senderRetries, gateway5xxWindows, failNext, forgedNotifies } = client.counts()
    return {
      payments: total,
      senders: options.senders,
      durationSeconds: Math.round(durationMs / 100) / 10,
      throughputPerSecond: Math.round((total / (durationMs / 1000)) * 10) / 10,
      faults: {
        sigkills: { relay: relay.kills, merchant: merchant.kills },
        deliveredAttempts: gateway.deliveredAttempts,
        droppedAttempts: gateway.droppedAttempts,
        gateway5xxWindows,
        failNext,
        forgedNotifies,
      },
      retries: {
        gatewayAttemptsBeyondFirst: gateway.retriesBeyondFirst,
        relayAttemptsBeyondFirst: await stores.outboxRetries(),
        senderRetries,
      },
      recovery: {
        ...restartTimes([relay, merchant]),
        drainAfterLastKillMs: lastKillAt ? Math.max(0, drainedAt - lastKillAt) : 0,
      },
      repairedByReconciliation: outcome.repairedByReconciliation,
      results: {
        paidAtGateway: paidOrders.filter((id) => gateway.paidTrades.has(id)).length,
        paidAtMerchant: await stores.paidAtMerchant(),
        lost: outcome.lost,
        duplicated: outcome.paidTwice,
        paidWithoutVerifiedNotify: outcome.paidWithoutVerifiedNotify,
        notifiesUnacknowledged: gateway.notifiesUnacknowledged,
        relayUndelivered: await stores.outboxUndelivered(),
        decoysPaid: outcome.decoysPaid,
      },
    }
  } finally {
    for (const child of children) await child.stop().catch(() => undefined)
    await stores?.close().catch(() => undefined)
    await sandbox?.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}
