import { encodeForm, formatBeijingTime, NOTIFY_ACK, type Params } from '../protocol/index'
import type { Clock } from './clock'
import type { ResolvedConfig } from './config'
import type { FaultBoard } from './faults'
import { newAsyncNotifyId } from './ids'
import type { TimedWork } from './scheduler'
import type { GatewaySigner } from './signer'
import type { Notify, NotifyAttempt, SandboxStore } from './store'

/** What a new notify needs; the notifier adds notify_id, notify_time and the signature. */
export interface NotifyRequest {
  partner: string
  tradeNo: string | null
  kind: Notify['kind']
  url: string
  charset: string
  signType: string
  /** Business parameters, without notify_id, notify_time, sign_type and sign. */
  params: Params
}

/** Longest answer excerpt kept per attempt. */
const EXCERPT_CHARS = 200

/**
 * Delivers asynchronous notifications: POSTs them to notify_url, retries on the scaled mapi
 * schedule (mapi §6.2) until the receiver answers 200 with exactly `success`, and records every
 * attempt. State is written before each POST, so a restart never repeats an attempt.
 */
export class Notifier implements TimedWork {
  readonly #inFlight = new Set<Promise<void>>()

  constructor(
    private readonly deps: {
      store: SandboxStore
      clock: Clock
      config: ResolvedConfig
      faults: FaultBoard
      signer: GatewaySigner
      fetch: typeof fetch
      /** Asks the scheduler to re-check deadlines soon. */
      wake: () => void
    },
  ) {}

  /** Gap before attempt `attemptNo + 1`, in ms of sandbox time; undefined after the last attempt. */
  gapAfter(attemptNo: number): number | undefined {
    const gap = this.deps.config.notifyRetryGapsSeconds[attemptNo - 1]
    return gap === undefined ? undefined : gap * 1000 * this.deps.config.timeScale
  }

  /** Stores a new notify with a fresh notify_id and schedules its first delivery. */
  enqueue(request: NotifyRequest): Notify {
    const { store, clock, faults } = this.deps
    const now = clock.now()
    const f = faults.current
    const alreadyHeld = request.tradeNo ? store.heldNotifies(request.tradeNo).length > 0 : false
    const hold = f.outOfOrderNotify && request.tradeNo !== null && !alreadyHeld
    const notify = store.insertNotify({
      notifyId: newAsyncNotifyId(),
      partner: request.partner,
      tradeNo: request.tradeNo,
      kind: request.kind,
      url: request.url,
      charset: request.charset,
      signType: request.signType,
      params: JSON.stringify(request.params),
      state: hold ? 'held' : 'pending',
      // A held notify is released by its successor, or by itself after the first retry gap.
      nextAttemptAt: now + (hold ? (this.gapAfter(1) ?? 0) : f.notifyDelayMs),
      createdAt: now,
    })
    this.deps.wake()
    return notify
  }

  /** Earliest time any notify needs attention. */
  nextDue(): number | undefined {
    return this.deps.store.nextNotifyDue()
  }

  /**
   * Starts every attempt that is due, without waiting for them: a slow receiver must not hold
   * up the others. Each attempt wakes the scheduler when it ends.
   */
  runDue(): void {
    const { store, clock } = this.deps
    const now = clock.now()
    for (const held of store.expiredHolds(now)) store.updateNotify(held.id, { state: 'pending', nextAttemptAt: now })
    for (const notify of store.dueNotifies(now)) void this.#track(this.#attempt(notify))
  }

  /** Waits for attempts in flight (used on shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#inFlight])
  }

  #track(promise: Promise<void>): Promise<void> {
    const tracked = promise
      .catch((error: unknown) => this.deps.config.log(`[alipay-sandbox] notify delivery failed: ${String(error)}`))
      .finally(() => this.#inFlight.delete(tracked))
    this.#inFlight.add(tracked)
    return tracked
  }

  async #attempt(notify: Notify): Promise<void> {
    const { store, clock, faults, config } = this.deps
    const attemptNo = notify.attempts + 1
    const gap = this.gapAfter(attemptNo)
    const startedAt = clock.now()
    // Write ahead: the attempt counts before it is made, so a crash mid-POST never repeats it.
    store.updateNotify(notify.id, {
      attempts: attemptNo,
      state: gap === undefined ? 'failed' : 'pending',
      nextAttemptAt: startedAt + (gap ?? 0),
    })
    const f = faults.current
    let delivered = false
    if (attemptNo <= f.dropNotifyAttempts) {
      this.#record(notify, attemptNo, {
        outcome: 'dropped',
        status: null,
        bodyExcerpt: null,
        error: 'dropped by fault',
      })
    } else {
      const sends = f.duplicateNotify ? 2 : 1
      for (let i = 0; i < sends; i++) delivered = (await this.#post(notify, attemptNo)) || delivered
    }
    if (delivered) store.updateNotify(notify.id, { state: 'delivered', ackedAt: clock.now() })
    else if (gap === undefined)
      config.log(`[alipay-sandbox] notify ${notify.notifyId} gave up after ${attemptNo} attempts`)
    // Out-of-order fault: notifies held behind this one go out now, after it.
    if (notify.tradeNo) {
      for (const held of store.heldNotifies(notify.tradeNo)) {
        if (held.id < notify.id) store.updateNotify(held.id, { state: 'pending', nextAttemptAt: clock.now() })
      }
    }
    this.deps.wake()
  }

  async #post(notify: Notify, attemptNo: number): Promise<boolean> {
    const { clock, config, signer } = this.deps
    const params: Params = {
      ...(JSON.parse(notify.params) as Params),
      notify_id: notify.notifyId,
      notify_time: formatBeijingTime(new Date(clock.now())),
    }
    try {
      const partner = config.partners.find((p) => p.partner === notify.partner)
      const signed = await signer.sign(params, partner, notify.signType, notify.charset, 'notify')
      const response = await this.deps.fetch(notify.url, {
        method: 'POST',
        headers: { 'content-type': `application/x-www-form-urlencoded; charset=${notify.charset}` },
        body: encodeForm(signed, notify.charset),
        redirect: 'manual',
        signal: AbortSignal.timeout(config.notifyTimeoutMs),
      })
      const body = await response.text()
      const ok = response.status === 200 && body === NOTIFY_ACK
      this.#record(notify, attemptNo, {
        outcome: ok ? 'success' : 'failure',
        status: response.status,
        bodyExcerpt: body.slice(0, EXCERPT_CHARS),
        error: null,
      })
      return ok
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      this.#record(notify, attemptNo, { outcome: 'failure', status: null, bodyExcerpt: null, error: message })
      return false
    }
  }

  #record(
    notify: Notify,
    attemptNo: number,
    result: Pick<NotifyAttempt, 'outcome' | 'status' | 'bodyExcerpt' | 'error'>,
  ) {
    // The store may be closed when a shutdown races an attempt; the attempt is then simply lost.
    if (!this.deps.store.db.open) return
    this.deps.store.insertAttempt({ notifyRowId: notify.id, attemptNo, at: this.deps.clock.now(), ...result })
  }
}
