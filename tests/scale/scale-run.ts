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

/** What one scale run does. */
export interface ScaleOptions {
  payments: number
  senders: number
  /** SIGKILLs in all, each of a payment-app or merchant process picked at random. */
  kills: number
  /** Payment-app and merchant processes; several of a kind need a shared store (PostgreSQL). */
  apps: number
  merchants: number
  /** `postgres://…` of a database of this run's own for the payment apps; unset: a SQLite file. */
  appDatabaseUrl?: string | undefined
  /** The same for the merchants (may be the same database); unset: SQLite files. */
  merchantDatabaseUrl?: string | undefined
  decoys?: number
  drainTimeoutMs?: number
  seed?: number
  /** Sandbox time scale (retry gaps, expiries); default 0.001, as the chaos suite's. */
  timeScale?: number
  log?: (line: string) => void
}

/** The figures of a scale run. */
export interface ScaleFigures {
  stores: { apps: 'postgres' | 'sqlite'; merchants: 'postgres' | 'sqlite' }
  processes: { apps: number; merchants: number; proxies: number }
  payments: number
  senders: number
  /** Payments sent, from the first checkout to the last pay trigger. */
  sendSeconds: number
  /** From the last pay trigger (or the last kill, if later) until nothing was left to deliver. */
  drainSeconds: number
  faults: {
    sigkills: { apps: number; merchants: number }
    deliveredAttempts: number
    droppedAttempts: number
    gateway5xxWindows: number
    failNext: number
    forgedNotifies: number
  }
  proxies: {
    app: ProxyStats
    merchant: ProxyStats
  }
  recovery: { restartMeanMs: number; restartMaxMs: number }
  repairedByReconciliation: number
  results: {
    paidAtGateway: number
    paidAtMerchant: number
    lost: number
    paidTwice: number
    paidWithoutVerifiedNotify: number
    notifiesUnacknowledged: number
    stuckInOutbox: number
    decoysPaid: number
  }
}

interface ProxyStats {
  requests: number
  perUpstream: number[]
  retriedElsewhere: number
  badGateway: number
}

const TAG = '[scale]'

/**
 * Runs the sandbox → payment apps → merchants under load and faults, every hop through a
 * round-robin proxy in its own process: `apps` payment-app processes behind one proxy,
 * `merchants` merchant processes behind another, one store for each kind. The sandbox
 * duplicates, reorders, delays and drops notifies and answers 5xx; `kills` random processes are
 * SIGKILLed and started again. Then waits for every backlog to drain and counts, from the stores,
 * what was paid, lost, paid twice or left in the relay's outbox.
 */
export async function runScale(options: ScaleOptions): Promise<ScaleFigures> {
  const log = options.log ?? (() => {})
  const rand = random(options.seed ?? Date.now())
  const dir = mkdtempSync(join(tmpdir(), 'alipay-scale-'))
  let sandbox: RunningSandbox | undefined
  let stores: LoadStores | undefined
  const children: Child[] = []
  try {
    sandbox = await startLoadSandbox(dir, options.timeScale)
    const appProxyPort = await freePort()
    const merchantProxyPort = await freePort()
    const relayUrl = `http://localhost:${appProxyPort}`
    const merchantUrl = `http://localhost:${merchantProxyPort}`
    const storeEnv = (url: string | undefined): Record<string, string> => (url ? { CHAOS_DATABASE_URL: url } : {})

    const apps: Child[] = []
    for (let i = 0; i < options.apps; i++) {
      const port = await freePort()
      apps.push(
        new Child(
          `app${i + 1}`,
          'tests/chaos/relay-main.ts',
          {
            CHAOS_PORT: String(port),
            CHAOS_PUBLIC_ORIGIN: relayUrl,
            CHAOS_DB: join(dir, 'signing.db'),
            CHAOS_GATEWAY_URL: sandbox.gatewayUrl,
            CHAOS_MERCHANT_ORIGIN: merchantUrl,
            ...storeEnv(options.appDatabaseUrl),
          },
          log,
          TAG,
        ),
      )
    }
    const merchants: Child[] = []
    for (let i = 0; i < options.merchants; i++) {
      const port = await freePort()
      merchants.push(
        new Child(
          `merchant${i + 1}`,
          'tests/chaos/merchant-main.ts',
          {
            CHAOS_PORT: String(port),
            CHAOS_PUBLIC_ORIGIN: merchantUrl,
            CHAOS_DATA_DIR: dir,
            CHAOS_GATEWAY_URL: sandbox.gatewayUrl,
            ...storeEnv(options.merchantDatabaseUrl),
          },
          log,
          TAG,
        ),
      )
    }
    const upstreams = (group: Child[]) => group.map((c) => `127.0.0.1:${c.env['CHAOS_PORT']}`).join(',')
    const appProxy = new Child(
      'app proxy',
      'tests/scale/proxy-main.ts',
      { PROXY_PORT: String(appProxyPort), PROXY_UPSTREAMS: upstreams(apps) },
      log,
      TAG,
    )
    const merchantProxy = new Child(
      'merchant proxy',
      'tests/scale/proxy-main.ts',
      { PROXY_PORT: String(merchantProxyPort), PROXY_UPSTREAMS: upstreams(merchants) },
      log,
      TAG,
    )
    children.push(appProxy, merchantProxy)
    await Promise.all([appProxy.start(), merchantProxy.start()])
    // The first process of each kind alone creates the schema; the others start once it exists.
    await Promise.all([apps[0]!.start(), merchants[0]!.start()])
    children.push(...apps, ...merchants)
    await Promise.all([...apps.slice(1), ...merchants.slice(1)].map((c) => c.start()))
    stores = await openLoadStores({
      dir,
      appDatabaseUrl: options.appDatabaseUrl,
      merchantDatabaseUrl: options.merchantDatabaseUrl,
    })

    const client = createLoadClient({ merchantUrl, relayUrl, sandboxUrl: sandbox.url }, rand, '[alipay-scale]')
    const decoys = await client.decoys(options.decoys ?? 5)
    await client.standingFaults()

    // Kills at random points of the run, a payment app and a merchant in turn (which one of its
    // kind at random); between them, the fault dice.
    const victims = [...apps, ...merchants]
    const pick = (group: Child[]) => group[Math.floor(rand() * group.length)]!
    const planKills = () =>
      Array.from({ length: options.kills }, (_, i) => ({ at: rand(), who: pick(i % 2 === 0 ? apps : merchants) }))
    const total = options.payments
    const { paidOrders, started, sentAt, lastKillAt } = await payUnderFaults({
      client,
      total,
      senders: options.senders,
      planKills,
      decoys,
      tag: TAG,
      log,
    })

    // Drain: no notify left at the gateway, every order paid, nothing owed by any relay.
    const drainFrom = Math.max(sentAt, lastKillAt)
    const deadline = Date.now() + (options.drainTimeoutMs ?? 180_000)
    let drainedAt: number
    for (;;) {
      const pending = gatewayBacklog(sandbox)
      const paid = await stores.paidAtMerchant()
      const backlog = await stores.outboxBacklog()
      if (pending === 0 && paid >= total && backlog === 0) {
        drainedAt = Date.now()
        break
      }
      if (Date.now() > deadline) {
        log(`${TAG} drain timed out: ${pending} notifies at the gateway, ${paid}/${total} paid, outbox ${backlog}`)
        drainedAt = Date.now()
        break
      }
      await sleep(200)
    }

    // The counting: the gateway's own records, then the merchants' and the relays' stores.
    const gateway = gatewayOutcome(sandbox, dir, total)
    const merchant = merchantOutcome(await stores.merchantOutcomes(), paidOrders, decoys)
    const proxyStats = async (child: Child): Promise<ProxyStats> =>
      (await (await fetch(`http://127.0.0.1:${child.env['PROXY_PORT']}/_proxy/stats`)).json()) as ProxyStats
    const { gateway5xxWindows, failNext, forgedNotifies } = client.counts()
    return {
      stores: {
        apps: options.appDatabaseUrl ? 'postgres' : 'sqlite',
        merchants: options.merchantDatabaseUrl ? 'postgres' : 'sqlite',
      },
      processes: { apps: apps.length, merchants: merchants.length, proxies: 2 },
      payments: total,
      senders: options.senders,
      sendSeconds: Math.round((sentAt - started) / 100) / 10,
      drainSeconds: Math.round((drainedAt - drainFrom) / 100) / 10,
      faults: {
        sigkills: {
          apps: apps.reduce((n, c) => n + c.kills, 0),
          merchants: merchants.reduce((n, c) => n + c.kills, 0),
        },
        deliveredAttempts: gateway.deliveredAttempts,
        droppedAttempts: gateway.droppedAttempts,
        gateway5xxWindows,
        failNext,
        forgedNotifies,
      },
      proxies: { app: await proxyStats(appProxy), merchant: await proxyStats(merchantProxy) },
      recovery: restartTimes(victims),
      repairedByReconciliation: merchant.repairedByReconciliation,
      results: {
        paidAtGateway: paidOrders.filter((id) => gateway.paidTrades.has(id)).length,
        paidAtMerchant: await stores.paidAtMerchant(),
        lost: merchant.lost,
        paidTwice: merchant.paidTwice,
        paidWithoutVerifiedNotify: merchant.paidWithoutVerifiedNotify,
        notifiesUnacknowledged: gateway.notifiesUnacknowledged,
        stuckInOutbox: await stores.outboxUndelivered(),
        decoysPaid: merchant.decoysPaid,
      },
    }
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined)
    await stores?.close().catch(() => undefined)
    await sandbox?.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The summary line the suite prints and the brief asks for. */
export function summary(f: ScaleFigures): string {
  const r = f.results
  return (
    `${TAG} ${f.payments} payments: ${f.processes.apps} payment app(s) on ${f.stores.apps}, ` +
    `${f.processes.merchants} merchant(s) on ${f.stores.merchants}, 2 proxies; ` +
    `faults: ${f.faults.droppedAttempts} notify attempts dropped, every delivery doubled and reordered, ` +
    `${f.faults.gateway5xxWindows} gateway 5xx windows, ${f.faults.failNext} fail-next, ${f.faults.forgedNotifies} forged; ` +
    `kills: ${f.faults.sigkills.apps} app, ${f.faults.sigkills.merchants} merchant; ` +
    `${r.lost} lost, ${r.paidTwice} paid twice, ${r.stuckInOutbox} stuck in the outbox; ` +
    `sent in ${f.sendSeconds} s, drained in ${f.drainSeconds} s`
  )
}
