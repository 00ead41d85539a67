import * as v from 'valibot'

/** Which outgoing messages a wrong-key fault applies to. */
export const SIGNED_OUTPUTS = ['return', 'notify', 'reply'] as const
export type SignedOutput = (typeof SIGNED_OUTPUTS)[number]

/** Server-to-server services whose replies a reply fault may break. */
const S2S_SERVICES = ['single_trade_query', 'close_trade', 'notify_verify', 'refund_fastpay_by_platform_nopwd'] as const

/**
 * Fault knobs, for tests of the merchant side. All off by default; each stays on until changed.
 * Delays are real milliseconds (not scaled).
 */
export const FaultsSchema = v.strictObject({
  /** Hold every notify's first delivery back by this many ms. */
  notifyDelayMs: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400_000)),
  /** Drop the first N deliveries of every notify: recorded as `dropped`, never sent, retried on schedule. */
  dropNotifyAttempts: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8)),
  /** POST every delivery twice in a row (same notify_id); both are recorded. */
  duplicateNotify: v.boolean(),
  /**
   * Deliver notifies of one trade out of order: a new notify is held until the next notify of the
   * same trade is created, and then sent after it (or after the first retry gap if none comes).
   */
  outOfOrderNotify: v.boolean(),
  /** Sign these outputs with a wrong key (the merchant's own key instead of the gateway's). */
  wrongKey: v.array(v.picklist(SIGNED_OUTPUTS)),
  /** Server-to-server services answer HTTP 5xx with this status (0 = off). */
  replyStatus: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(599)),
  /** Server-to-server services answer truncated, malformed XML. */
  malformedReply: v.boolean(),
  /** Limit replyStatus / malformedReply to these services; empty means all. */
  replyServices: v.array(v.picklist(S2S_SERVICES)),
})

/** The active fault set. */
export type Faults = v.InferOutput<typeof FaultsSchema>

/** No fault at all. */
export const NO_FAULTS: Faults = {
  notifyDelayMs: 0,
  dropNotifyAttempts: 0,
  duplicateNotify: false,
  outOfOrderNotify: false,
  wrongKey: [],
  replyStatus: 0,
  malformedReply: false,
  replyServices: [],
}

/** Schema of a PATCH-like update: any subset of the knobs, nothing else. */
export const FaultsUpdateSchema = v.partial(FaultsSchema)

/**
 * One-shot delivery failures for the next N notify attempts (`fail-next`):
 * - `drop`: never sent, recorded as `dropped`, retried on schedule (a lost notify);
 * - `5xx`: sent, but the gateway sees HTTP 502 (a proxy in between failed), so it retries a notify the merchant got;
 * - `timeout`: sent, but the gateway stops waiting before reading the answer, and retries;
 * - `twice`: sent twice in a row with the same body.
 */
export const FAIL_MODES = ['drop', '5xx', 'timeout', 'twice'] as const
export type FailMode = (typeof FAIL_MODES)[number]

/** The mutable fault switchboard shared by the notifier and the gateway routes. */
export class FaultBoard {
  #faults: Faults
  #failNext: { mode: FailMode; remaining: number } | undefined

  constructor(initial: Partial<Faults> = {}) {
    this.#faults = { ...NO_FAULTS, ...initial }
  }

  /** The current faults (a copy). */
  get current(): Faults {
    return { ...this.#faults, wrongKey: [...this.#faults.wrongKey], replyServices: [...this.#faults.replyServices] }
  }

  /** Merges an update into the active faults. */
  update(update: Partial<Faults>): Faults {
    this.#faults = { ...this.#faults, ...update }
    return this.current
  }

  /** Turns every fault off. */
  reset(): Faults {
    this.#faults = { ...NO_FAULTS }
    this.#failNext = undefined
    return this.current
  }

  /** Makes the next `count` notify delivery attempts fail in `mode` (replaces any earlier request). */
  failNext(count: number, mode: FailMode): void {
    this.#failNext = count > 0 ? { mode, remaining: count } : undefined
  }

  /** The one-shot failures still to come, if any. */
  get pendingFailures(): { mode: FailMode; remaining: number } | undefined {
    return this.#failNext ? { ...this.#failNext } : undefined
  }

  /** Consumes one one-shot failure for the delivery attempt about to be made. */
  takeFailure(): FailMode | undefined {
    const next = this.#failNext
    if (!next) return undefined
    next.remaining--
    if (next.remaining <= 0) this.#failNext = undefined
    return next.mode
  }

  /** Whether a reply fault applies to this service. */
  replyFaultFor(service: string): { status: number; malformed: boolean } | undefined {
    const f = this.#faults
    if (f.replyStatus === 0 && !f.malformedReply) return undefined
    if (f.replyServices.length > 0 && !(f.replyServices as readonly string[]).includes(service)) return undefined
    return { status: f.replyStatus, malformed: f.malformedReply }
  }

  /** Whether outputs of this kind are signed with the wrong key. */
  wrongKeyFor(output: SignedOutput): boolean {
    return this.#faults.wrongKey.includes(output)
  }
}
