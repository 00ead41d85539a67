import Database from 'better-sqlite3'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeForm, signParams } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'

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

const ROOT = new URL('../..', import.meta.url).pathname

/** A port the OS says is free now (the children bind it, and bind it again after a kill). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A child server started with tsx; `start` again after a kill reuses port and files. */
class Child {
  process: ChildProcess | undefined
  kills = 0
  readonly restarts: number[] = []
  constructor(
    readonly name: string,
    readonly script: string,
    readonly env: Record<string, string>,
    readonly log: (line: string) => void,
  ) {}

  start(): Promise<void> {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tests/chaos', this.script)], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.process = child
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start: ${stderr}`)), 30_000)
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('READY')) {
          clearTimeout(timer)
          this.log(`[chaos] ${this.name} up in ${Date.now() - started} ms`)
          resolve()
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        if (signal !== 'SIGKILL' && signal !== 'SIGTERM') reject(new Error(`${this.name} exited ${code}: ${stderr}`))
      })
    })
  }

  /** SIGKILL, then start again at once on the same port and files; answers the downtime. */
  async killAndRestart(): Promise<number> {
    const killedAt = Date.now()
    const child = this.process
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }
    this.kills++
    await this.start()
    const downtime = Date.now() - killedAt
    this.restarts.push(downtime)
    return downtime
  }

  async stop(): Promise<void> {
    const child = this.process
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}

/** A seeded PRNG (mulberry32), so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

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
      'relay-main.ts',
      {
        CHAOS_PORT: String(relayPort),
        CHAOS_DB: join(dir, 'signing.db'),
        CHAOS_GATEWAY_URL: sandbox.gatewayUrl,
        CHAOS_MERCHANT_ORIGIN: merchantUrl,
      },
      log,
    )
    const merchant = new Child(
      'merchant',
      'merchant-main.ts',
      { CHAOS_PORT: String(merchantPort), CHAOS_DATA_DIR: dir, CHAOS_GATEWAY_URL: sandbox.gatewayUrl },
      log,
    )
    children.push(relay, merchant)
    await Promise.all([relay.start(), merchant.start()])

    let senderRetries = 0
    /** fetch that waits out a killed server: connection errors and 5xx are retried for 180 s. */
    async function persistent(url: string, init: RequestInit = {}): Promise<Response> {
      const deadline = Date.now() + 180_000
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(30_000) })
          if (response.status < 500) return response
          await response.body?.cancel()
        } catch {
          // connection refused or reset: the server is restarting
        }
        if (Date.now() > deadline) throw new Error(`[alipay-chaos] ${url} unreachable for 180 s`)
        senderRetries++
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)))
      }
    }
    const json = { 'content-type': 'application/json' }

    /** One payment: shop order, signed data, session at the relay, the cashier, then the pay trigger. */
    async function pay(): Promise<string> {
      const quantity = 1 + Math.floor(rand() * 5)
      // A checkout answered with anything but 201 (a shop in the middle of its restart) is tried
      // again a few times; orders are not payments, so a repeated checkout loses or pays nothing.
      let order: { orderId?: string; viewToken?: string } = {}
      for (let attempt = 0; !order.orderId; attempt++) {
        const response = await persistent(`${merchantUrl}/api/checkout`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ items: [{ productId: 'tea-sachet', quantity }] }),
        })
        const text = await response.text()
        if (response.status === 201) order = JSON.parse(text) as { orderId: string; viewToken: string }
        else if (attempt >= 5) throw new Error(`[alipay-chaos] checkout ${response.status}: ${text}`)
        else {
          senderRetries++
          await sleep(200)
        }
      }
      const dataResponse = await persistent(`${merchantUrl}/api/orders/${order.orderId}/payment-data`, {
        method: 'POST',
        headers: { 'order-view-token': order.viewToken ?? '' },
      })
      const data = (await dataResponse.json()) as { data: Record<string, string>; total: unknown }
      if (!data.data) {
        throw new Error(
          `[alipay-chaos] payment-data ${dataResponse.status}: ${JSON.stringify(data)} (${order.orderId})`,
        )
      }
      const session = await persistent(`${relayUrl}/api/sessions`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          paymentRequestId: `chaos-${order.orderId}`,
          merchantOrigin: merchantUrl,
          methodData: data.data,
          total: data.total,
        }),
      })
      const created = (await session.json()) as { cashierUrl?: string }
      if (!created.cashierUrl) throw new Error(`[alipay-chaos] session refused: ${JSON.stringify(created)}`)
      const cashier = await persistent(created.cashierUrl)
      if (cashier.status !== 302) throw new Error(`[alipay-chaos] gateway refused the pay request: ${cashier.status}`)
      await cashier.body?.cancel()
      const paid = await persistent(`${sandbox!.url}/_sandbox/triggers/pay`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ out_trade_no: order.orderId }),
      })
      const answer = (await paid.json()) as { ok: boolean; error?: string; message?: string }
      // A retried trigger whose first answer was lost finds the trade already paid: that is the goal.
      const alreadyPaid = answer.error === 'TRADE_STATUS_ERROR' && /TRADE_SUCCESS/.test(answer.message ?? '')
      if (!answer.ok && !alreadyPaid) throw new Error(`[alipay-chaos] pay trigger refused: ${answer.message}`)
      return order.orderId
    }

    // Decoys: orders that stay unpaid, and get forged "paid" notifies during the run.
    const decoys: string[] = []
    for (let i = 0; i < (options.decoys ?? 5); i++) {
      const order = (await (
        await persistent(`${merchantUrl}/api/checkout`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ items: [{ productId: 'tea-sachet', quantity: 1 }] }),
        })
      ).json()) as { orderId: string }
      decoys.push(order.orderId)
    }
    let forgedNotifies = 0
    async function forge(): Promise<void> {
      const orderId = decoys[Math.floor(rand() * decoys.length)]!
      const notify = await signParams(
        {
          notify_time: '2024-12-20 16:16:15',
          notify_type: 'trade_status_sync',
          notify_id: `forged${Math.floor(rand() * 1e12)}`,
          out_trade_no: orderId,
          trade_no: '2024122021001004550200000001',
          trade_status: 'TRADE_SUCCESS',
          total_fee: '0.01',
          seller_id: DEMO_PARTNER.sellerId,
        },
        // Half signed with a wrong key, half with the real MD5 key but never issued by the gateway.
        { signType: 'MD5', keys: { md5Key: rand() < 0.5 ? DEMO_PARTNER.md5Key : 'x'.repeat(32) } },
      )
      for (const target of [`${relayUrl}/notify/mapi`, `${merchantUrl}/api/notify`]) {
        forgedNotifies++
        await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: encodeForm(notify),
        }).catch(() => undefined)
      }
    }

    // Standing faults: every delivery twice, held and reordered, the first of each dropped.
    const faultsUrl = `${sandbox.url}/_sandbox/faults`
    const setFaults = (faults: Record<string, unknown>) =>
      persistent(faultsUrl, { method: 'POST', headers: json, body: JSON.stringify(faults) }).then((r) =>
        r.body?.cancel(),
      )
    await setFaults({ duplicateNotify: true, outOfOrderNotify: true, dropNotifyAttempts: 1, notifyDelayMs: 20 })

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
    let gateway5xxWindows = 0
    let failNext = 0
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
        const dice = rand()
        if (dice < 0.1) {
          // notify_verify and single_trade_query answer 503 for a moment.
          gateway5xxWindows++
          await setFaults({ replyStatus: 503 })
          await sleep(150)
          await setFaults({ replyStatus: 0 })
        } else if (dice < 0.2) {
          failNext++
          const mode = (['5xx', 'timeout', 'twice', 'drop'] as const)[Math.floor(rand() * 4)]!
          await persistent(`${sandbox!.url}/_sandbox/triggers/fail-next`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ count: 3, mode }),
          }).then((r) => r.body?.cancel())
        } else if (dice < 0.3) {
          await forge()
        }
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
    await setFaults({ replyStatus: 0, dropNotifyAttempts: 0, outOfOrderNotify: false })
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
      if (pending === 0 && paid >= total) {
        drainedAt = Date.now()
        break
      }
      if (Date.now() > deadline) {
        log(`[chaos] drain timed out: ${pending} notifies pending, ${paid}/${total} paid`)
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
