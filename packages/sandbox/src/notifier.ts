import { encodeForm, formatBeijingTime, NOTIFY_ACK, type Params } from '@alipay-payment-handler/protocol'
import type { Clock } from './clock.js'
import type { ResolvedConfig } from './config.js'
import type { FailMode, FaultBoard } from './faults.js'
import { newAsyncNotifyId } from './ids.js'
import type { TimedWork } from './scheduler.js'
import type { GatewaySigner } from './signer.js'
import type { Notify, NotifyAttempt, SandboxStore } from './store.js'

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
  /** A notify_id chosen by the caller (openapi: 34 digits); default a mapi-style one. */
  notifyId?: string | undefined
  /**
   * The whole notification, signed once (openapi: every retry sends the same bytes). Without it,
   * each attempt is signed anew with a fresh notify_time (mapi).
   */
  fixedBody?: string | undefined
}

/** Longest answer excerpt kept per attempt. */
const EXCERPT_CHARS = 200

/**
 * Delivers asynchronous notifications: POSTs them to notify_url, retries on the scaled mapi
 * schedule (mapi-protocol §6.2) until the receiver answers 200 with exactly `success`, and records every
 * attempt. State is written before each POST, so a restart never repeats an attempt.
 */
export class Notifier implements TimedWork {
  readonly #inFlight = new Set<Promise<void>>()
  /** Delivery attempts in flight (enqueue signing and replays are tracked but not counted). */
  #attempts = 0

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
      notifyId: request.notifyId ?? newAsyncNotifyId(),
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
      fixedBody: request.fixedBody ?? null,
    })
    this.deps.wake()
    return notify
  }

  /**
   * Enqueues a notify whose body is still being signed (openapi signs once, asynchronously).
   * Tracked like an attempt, so shutdown waits for it.
   */
  enqueueAsync(request: Promise<NotifyRequest>): void {
    void this.#track(
      request.then((r) => {
        if (this.deps.store.db.open) this.enqueue(r)
      }),
    )
  }

  /**
   * Starts the attempts that are due, up to `notifyConcurrency` in flight, without waiting for
   * them: a slow receiver must not hold up the others. Each attempt wakes the scheduler when it
   * ends, which starts the next in line; waiting in line spends no attempt.
   */
  runDue(): void {
    const { store, clock, config } = this.deps
    const now = clock.now()
    for (const held of store.expiredHolds(now)) store.updateNotify(held.id, { state: 'pending', nextAttemptAt: now })
    const free = config.notifyConcurrency - this.#attempts
    if (free <= 0) return
    for (const notify of store.dueNotifies(now, free)) {
      this.#attempts++
      void this.#track(this.#attempt(notify).finally(() => this.#attempts--))
    }
  }

  /** The earliest due time, or none while every delivery slot is taken (an ending attempt wakes the scheduler). */
  nextDue(): number | undefined {
    if (this.#attempts >= this.deps.config.notifyConcurrency) return undefined
    return this.deps.store.nextNotifyDue()
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
    const f = faults.current
    const forced = faults.takeFailure()
    const sends = f.duplicateNotify || forced === 'twice' ? 2 : 1
    // Write ahead: the attempt counts before it is made, so a crash mid-POST never repeats it.
    // The next one is due a gap after this one can have ended at the latest, so attempts of one
    // notify never overlap; when this one ends, the gap is counted from its end.
    const reservedUntil = startedAt + sends * config.notifyTimeoutMs + (gap ?? 0)
    store.updateNotify(notify.id, {
      attempts: attemptNo,
      state: gap === undefined ? 'failed' : 'pending',
      nextAttemptAt: reservedUntil,
    })
    let delivered = false
    if (forced === 'drop' || attemptNo <= f.dropNotifyAttempts) {
      this.#record(notify, attemptNo, {
        outcome: 'dropped',
        status: null,
        bodyExcerpt: null,
        error: forced === 'drop' ? 'dropped by fail-next' : 'dropped by fault',
      })
    } else {
      // Signed once per attempt: a duplicated delivery is the same bytes twice, as the real gateway's are.
      const body = this.#body(notify)
      for (let i = 0; i < sends; i++) delivered = (await this.#post(notify, attemptNo, forced, body)) || delivered
    }
    if (!store.db.open) return
    if (delivered) store.updateNotify(notify.id, { state: 'delivered', ackedAt: clock.now() })
    else if (gap === undefined)
      config.log(`[alipay-sandbox] notify ${notify.notifyId} gave up after ${attemptNo} attempts`)
    else store.updateNotify(notify.id, { nextAttemptAt: clock.now() + gap }, reservedUntil)
    // Out-of-order fault: notifies held behind this one go out now, after it.
    if (notify.tradeNo) {
      for (const held of store.heldNotifies(notify.tradeNo)) {
        if (held.id < notify.id) store.updateNotify(held.id, { state: 'pending', nextAttemptAt: clock.now() })
      }
    }
    this.deps.wake()
  }

  /** The body of one delivery: the fixed one (openapi), or the parameters signed now with a fresh notify_time (mapi). */
  async #body(notify: Notify): Promise<string> {
    if (notify.fixedBody !== null) return notify.fixedBody
    const { clock, config, signer } = this.deps
    const params: Params = {
      ...(JSON.parse(notify.params) as Params),
      notify_id: notify.notifyId,
      notify_time: formatBeijingTime(new Date(clock.now())),
    }
    const partner = config.partners.find((p) => p.partner === notify.partner)
    const signed = await signer.sign(params, partner, notify.signType, notify.charset, 'notify')
    return encodeForm(signed, notify.charset)
  }

  #send(notify: Notify, body: string): Promise<Response> {
    return this.deps.fetch(notify.url, {
      method: 'POST',
      headers: { 'content-type': `application/x-www-form-urlencoded; charset=${notify.charset}` },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.deps.config.notifyTimeoutMs),
    })
  }

  async #post(
    notify: Notify,
    attemptNo: number,
    forced: FailMode | undefined,
    signedBody: Promise<string>,
  ): Promise<boolean> {
    try {
      // Awaited here, inside the try: a body that cannot be signed is a failed attempt.
      const body = await signedBody
      if (this.deps.store.db.open) this.deps.store.updateNotify(notify.id, { lastBody: body })
      const response = await this.#send(notify, body)
      const answer = await response.text()
      if (forced === 'timeout') {
        this.#record(notify, attemptNo, {
          outcome: 'failure',
          status: null,
          bodyExcerpt: null,
          error: 'TimeoutError: stopped waiting for the answer (fail-next timeout)',
        })
        return false
      }
      const status = forced === '5xx' ? 502 : response.status
      const ok = status === 200 && answer === NOTIFY_ACK
      this.#record(notify, attemptNo, {
        outcome: ok ? 'success' : 'failure',
        status,
        bodyExcerpt: forced === '5xx' ? 'Bad Gateway (fail-next 5xx)' : answer.slice(0, EXCERPT_CHARS),
        error: null,
      })
      return ok
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      this.#record(notify, attemptNo, { outcome: 'failure', status: null, bodyExcerpt: null, error: message })
      return false
    }
  }

  /**
   * Delivers a notify again now through the normal path (a pending, held or given-up one): the
   * attempt counts, and a success acknowledges it. An acknowledged notify is not resent.
   */
  resend(notify: Notify): 'scheduled' | 'already-acknowledged' {
    if (notify.state === 'delivered') return 'already-acknowledged'
    this.deps.store.updateNotify(notify.id, { state: 'pending', nextAttemptAt: this.deps.clock.now() })
    this.deps.wake()
    return 'scheduled'
  }

  /**
   * POSTs the exact bytes of the last delivery once more, outside the schedule: what a replay
   * attacker (or a gateway glitch) sends. The notify's state does not change; the attempt is
   * recorded as `replayed` with attemptNo 0.
   */
  async replay(notify: Notify): Promise<{ status: number | null; answer: string | null; error?: string }> {
    if (notify.lastBody === null) return { status: null, answer: null, error: 'NOTIFY_NEVER_SENT' }
    try {
      const response = await this.#send(notify, notify.lastBody)
      const answer = await response.text()
      this.#record(notify, 0, {
        outcome: 'replayed',
        status: response.status,
        bodyExcerpt: answer.slice(0, EXCERPT_CHARS),
        error: null,
      })
      return { status: response.status, answer }
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      this.#record(notify, 0, { outcome: 'replayed', status: null, bodyExcerpt: null, error: message })
      return { status: null, answer: null, error: message }
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
