// The parts the load suites share (tests/chaos, tests/scale): child servers that can be SIGKILLed
// and started again, a seeded PRNG, a fetch that waits out restarts, one whole payment through
// shop → payment app → sandbox, and the sandbox's fault dice.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { encodeForm, signParams } from '@alipay-payment-handler/protocol'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

export const ROOT = new URL('../..', import.meta.url).pathname

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A port the OS says is free now (the children bind it, and bind it again after a kill). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A seeded PRNG (mulberry32), so a failing run can be repeated. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A child server started with tsx (`script`: a path from the repository root) that prints
 * `READY` once listening; `start` again after a kill reuses its port and files.
 */
export class Child {
  process: ChildProcess | undefined
  kills = 0
  readonly restarts: number[] = []
  constructor(
    readonly name: string,
    readonly script: string,
    readonly env: Record<string, string>,
    readonly log: (line: string) => void,
    /** Prefix of the child's log lines, e.g. `[chaos]`. */
    readonly tag = '[load]',
  ) {}

  start(): Promise<void> {
    const started = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}${this.script}`], {
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
          this.log(`${this.tag} ${this.name} up in ${Date.now() - started} ms`)
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

/** Where a load client sends its requests. */
export interface LoadTargets {
  /** The shop (its /api). */
  merchantUrl: string
  /** The payment app (sessions, cashier redirect, notify endpoint). */
  relayUrl: string
  /** The sandbox's own origin (triggers, faults). */
  sandboxUrl: string
}

const json = { 'content-type': 'application/json' }

/** The load generator's side of a run: payments, decoys, forgeries and fault switches, each retried through restarts. */
export function createLoadClient(targets: LoadTargets, rand: () => number, tag: string) {
  const { merchantUrl, relayUrl, sandboxUrl } = targets
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
      if (Date.now() > deadline) throw new Error(`${tag} ${url} unreachable for 180 s`)
      senderRetries++
      await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)))
    }
  }

  /** A new order and the buyer's view token for it (the shop's order routes ask for it). */
  async function checkout(quantity: number): Promise<{ orderId: string; viewToken: string }> {
    // A checkout answered with anything but 201 (a shop in the middle of its restart) is tried
    // again a few times; orders are not payments, so a repeated checkout loses or pays nothing.
    for (let attempt = 0; ; attempt++) {
      const response = await persistent(`${merchantUrl}/api/checkout`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ items: [{ productId: 'tea-sachet', quantity }] }),
      })
      const text = await response.text()
      if (response.status === 201) return JSON.parse(text) as { orderId: string; viewToken: string }
      if (attempt >= 5) throw new Error(`${tag} checkout ${response.status}: ${text}`)
      senderRetries++
      await sleep(200)
    }
  }

  /** One payment: shop order, signed data, session at the relay, the cashier, then the pay trigger. */
  async function pay(): Promise<string> {
    const { orderId, viewToken } = await checkout(1 + Math.floor(rand() * 5))
    const dataResponse = await persistent(`${merchantUrl}/api/orders/${orderId}/payment-data`, {
      method: 'POST',
      headers: { 'order-view-token': viewToken },
    })
    const data = (await dataResponse.json()) as { data: Record<string, string>; total: unknown }
    if (!data.data) {
      throw new Error(`${tag} payment-data ${dataResponse.status}: ${JSON.stringify(data)} (${orderId})`)
    }
    const session = await persistent(`${relayUrl}/api/sessions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        paymentRequestId: `load-${orderId}`,
        merchantOrigin: merchantUrl,
        methodData: data.data,
        total: data.total,
      }),
    })
    const created = (await session.json()) as { cashierUrl?: string }
    if (!created.cashierUrl) throw new Error(`${tag} session refused: ${JSON.stringify(created)}`)
    const cashier = await persistent(created.cashierUrl)
    if (cashier.status !== 302) throw new Error(`${tag} gateway refused the pay request: ${cashier.status}`)
    await cashier.body?.cancel()
    const paid = await persistent(`${sandboxUrl}/_sandbox/triggers/pay`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ out_trade_no: orderId }),
    })
    const answer = (await paid.json()) as { ok: boolean; error?: string; message?: string }
    // A retried trigger whose first answer was lost finds the trade already paid: that is the goal.
    const alreadyPaid = answer.error === 'TRADE_STATUS_ERROR' && /TRADE_SUCCESS/.test(answer.message ?? '')
    if (!answer.ok && !alreadyPaid) throw new Error(`${tag} pay trigger refused: ${answer.message}`)
    return orderId
  }

  /** Orders that stay unpaid, for forged notifies. */
  async function decoys(count: number): Promise<string[]> {
    const ids: string[] = []
    for (let i = 0; i < count; i++) ids.push((await checkout(1)).orderId)
    return ids
  }

  let forgedNotifies = 0
  /** A forged "paid" notify for one decoy, to the relay and to the shop. */
  async function forge(decoyIds: readonly string[]): Promise<void> {
    const orderId = decoyIds[Math.floor(rand() * decoyIds.length)]!
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

  const setFaults = (faults: Record<string, unknown>) =>
    persistent(`${sandboxUrl}/_sandbox/faults`, { method: 'POST', headers: json, body: JSON.stringify(faults) }).then(
      (r) => r.body?.cancel(),
    )

  /** Standing faults: every delivery twice, held and reordered, the first of each dropped. */
  const standingFaults = () =>
    setFaults({ duplicateNotify: true, outOfOrderNotify: true, dropNotifyAttempts: 1, notifyDelayMs: 20 })
  const clearFaults = () => setFaults({ replyStatus: 0, dropNotifyAttempts: 0, outOfOrderNotify: false })

  let gateway5xxWindows = 0
  let failNext = 0
  /**
   * One roll of the fault dice: a moment of 503 from notify_verify and single_trade_query, the
   * next three notify attempts failed one way (5xx, timeout, twice, drop), a forgery, or nothing.
   */
  async function faultStep(decoyIds: readonly string[]): Promise<void> {
    const dice = rand()
    if (dice < 0.1) {
      gateway5xxWindows++
      await setFaults({ replyStatus: 503 })
      await sleep(150)
      await setFaults({ replyStatus: 0 })
    } else if (dice < 0.2) {
      failNext++
      const mode = (['5xx', 'timeout', 'twice', 'drop'] as const)[Math.floor(rand() * 4)]!
      await persistent(`${sandboxUrl}/_sandbox/triggers/fail-next`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ count: 3, mode }),
      }).then((r) => r.body?.cancel())
    } else if (dice < 0.3 && decoyIds.length > 0) {
      await forge(decoyIds)
    }
  }

  return {
    persistent,
    pay,
    decoys,
    standingFaults,
    clearFaults,
    faultStep,
    counts: () => ({ senderRetries, gateway5xxWindows, failNext, forgedNotifies }),
  }
}
