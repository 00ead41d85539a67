import { isAmountString, normalizeAmount, subtractAmounts } from '@alipay-payment-handler/protocol'
import type { SandboxDeps } from './deps.js'
import type { FailMode } from './faults.js'
import { OpenapiTradeBook } from './openapi-gateway.js'
import { isOpenapiTrade } from './openapi-messages.js'
import type { Notify, Trade } from './store.js'

/** Stable error codes of the trigger endpoints and the CLI. */
export type TriggerErrorCode =
  | 'TRADE_NOT_EXIST'
  | 'BUYER_NOT_EXIST'
  | 'PAY_REFUSED'
  | 'TRADE_STATUS_ERROR'
  | 'REFUND_AMOUNT_NOT_VALID'
  | 'NOTIFY_NOT_EXIST'
  | 'NOTIFY_ALREADY_ACKNOWLEDGED'
  | 'NOTIFY_NEVER_SENT'
  | 'CLOCK_FIXED'
  | 'INVALID_TRIGGER'

/** A refused trigger: HTTP status, stable code and a hint. */
export interface TriggerError {
  status: 400 | 404 | 409
  error: TriggerErrorCode
  message: string
}

/** What a trigger answers: its result, or why it did nothing. */
export type TriggerResult<T> = ({ ok: true } & T) | ({ ok: false } & TriggerError)

/** A refused trigger result. */
export const fail = (
  status: 400 | 404 | 409,
  error: TriggerErrorCode,
  message: string,
): { ok: false } & TriggerError => ({
  ok: false,
  status,
  error,
  message,
})

/** Which trade a trigger acts on: `trade_no`, or the most recent trade with this `out_trade_no`. */
export interface TradeRef {
  tradeNo?: string | undefined
  outTradeNo?: string | undefined
}

/**
 * Sandbox triggers: make the gateway do, now, what a buyer, the merchant console or time would
 * make it do. Each goes through the same code as the real event, so the messages sent (returns,
 * notifies) are exactly those of the real path, signed the same way.
 */
export class Triggers {
  constructor(private readonly deps: SandboxDeps) {}

  #trade(ref: TradeRef): TriggerResult<{ trade: Trade }> {
    const { store, trades } = this.deps
    const found = ref.tradeNo ? store.tradeByNo(ref.tradeNo) : store.tradesByOutTradeNo(ref.outTradeNo ?? '')[0]
    if (!found)
      return fail(
        404,
        'TRADE_NOT_EXIST',
        `no trade ${ref.tradeNo ?? ref.outTradeNo ?? ''}: a trade exists once its cashier or QR link has been opened; see /_sandbox/trades`,
      )
    return { ok: true, trade: trades.refresh(found) }
  }

  /**
   * Pays a trade as a test buyer (default: the buyer the order named, else the first configured
   * one), exactly as the cashier form would: notify, signed return URL, balance. `scene` qrpay is
   * the buyer scanning the QR code with the phone.
   */
  async pay(
    ref: TradeRef,
    buyerLogin: string | undefined,
    scene: 'cashier' | 'qrpay' = 'cashier',
  ): Promise<TriggerResult<{ trade: Trade; returnUrl: string | null }>> {
    const found = this.#trade(ref)
    if (!found.ok) return found
    const { config, trades } = this.deps
    const wanted = buyerLogin ?? found.trade.wantedBuyer ?? undefined
    const buyer = wanted
      ? config.buyers.find((b) => b.login.toLowerCase() === wanted.toLowerCase() || b.userId === wanted)
      : config.buyers[0]
    if (!buyer) return fail(404, 'BUYER_NOT_EXIST', `no test buyer ${wanted ?? ''}; configured: ${this.#buyerList()}`)
    const outcome = await trades.pay(found.trade.cashierToken, buyer.login, buyer.password, scene)
    if (!outcome) return fail(404, 'TRADE_NOT_EXIST', 'the trade disappeared')
    if (outcome.kind === 'refused') {
      if (outcome.reason === 'not-payable')
        return fail(409, 'TRADE_STATUS_ERROR', `the trade is ${outcome.trade.status}, not WAIT_BUYER_PAY`)
      return fail(409, 'PAY_REFUSED', `the cashier refused: ${outcome.reason}`)
    }
    return { ok: true, trade: outcome.trade, returnUrl: outcome.trade.returnTarget }
  }

  #buyerList(): string {
    return this.deps.config.buyers.map((b) => b.login).join(', ')
  }

  /** Closes an unpaid trade, as close_trade does (no notify, mapi-protocol §9). */
  close(ref: TradeRef): TriggerResult<{ trade: Trade }> {
    const found = this.#trade(ref)
    if (!found.ok) return found
    if (this.deps.trades.close(found.trade) === 'not-closable')
      return fail(409, 'TRADE_STATUS_ERROR', `only WAIT_BUYER_PAY closes; the trade is ${found.trade.status}`)
    return { ok: true, trade: this.deps.store.tradeByNo(found.trade.tradeNo)! }
  }

  /**
   * Refunds part or all of what is left (default: all of it), as a refund made in the merchant
   * console: trade_status_sync with refund_status and gmt_refund; a full refund closes the trade.
   */
  refund(ref: TradeRef, amount: string | undefined, reason?: string): TriggerResult<{ trade: Trade; amount: string }> {
    const found = this.#trade(ref)
    if (!found.ok) return found
    const left = subtractAmounts(found.trade.totalFee, found.trade.refundedFee)
    if (amount !== undefined && !isAmountString(amount))
      return fail(409, 'REFUND_AMOUNT_NOT_VALID', `"${amount}" is not an amount like 0.01`)
    const value = amount === undefined ? left : normalizeAmount(amount)
    const app = this.deps.config.apps.find((a) => a.appId === found.trade.partner)
    if (isOpenapiTrade(found.trade) && app) {
      // An openapi trade refunds as alipay.trade.refund would, with a fresh out_request_no.
      const outcome = new OpenapiTradeBook(this.deps, app).refund({
        trade_no: found.trade.tradeNo,
        refund_amount: value,
        out_request_no: `SANDBOX${this.deps.clock.now()}`,
        refund_reason: reason,
      })
      if ('failure' in outcome)
        return fail(
          409,
          outcome.failure.subCode.includes('AMT') ? 'REFUND_AMOUNT_NOT_VALID' : 'TRADE_STATUS_ERROR',
          `${outcome.failure.subCode}: ${outcome.failure.subMsg}`,
        )
      return { ok: true, trade: this.deps.store.tradeByNo(found.trade.tradeNo)!, amount: value }
    }
    const result = this.deps.trades.consoleRefund(found.trade, value)
    if ('error' in result)
      return fail(
        409,
        result.error,
        result.error === 'TRADE_STATUS_ERROR'
          ? `only TRADE_SUCCESS refunds; the trade is ${found.trade.status}`
          : `at most ${left} is left to refund`,
      )
    return { ok: true, trade: result.trade, amount: value }
  }

  /** Ends the refund period now: TRADE_FINISHED and its trade_status_sync. */
  finish(ref: TradeRef): TriggerResult<{ trade: Trade }> {
    const found = this.#trade(ref)
    if (!found.ok) return found
    const result = this.deps.trades.finishNow(found.trade)
    if ('error' in result)
      return fail(409, 'TRADE_STATUS_ERROR', `only TRADE_SUCCESS finishes; the trade is ${found.trade.status}`)
    return { ok: true, trade: result.trade }
  }

  #notify(notifyId: string): TriggerResult<{ notify: Notify }> {
    const notify = this.deps.store.notifyByNotifyId(notifyId)
    if (!notify) return fail(404, 'NOTIFY_NOT_EXIST', `no notify ${notifyId}; see /_sandbox/notifies`)
    return { ok: true, notify }
  }

  /** Delivers a pending, held or given-up notify now (the attempt counts; success acknowledges it). */
  async resend(notifyId: string): Promise<TriggerResult<{ notify: Notify }>> {
    const found = this.#notify(notifyId)
    if (!found.ok) return found
    if (this.deps.notifier.resend(found.notify) === 'already-acknowledged')
      return fail(
        409,
        'NOTIFY_ALREADY_ACKNOWLEDGED',
        'the merchant already answered success; use replay to send it again',
      )
    await this.deps.scheduler.idle()
    await this.deps.notifier.drain()
    return { ok: true, notify: this.deps.store.notifyByRowId(found.notify.id)! }
  }

  /** POSTs the exact bytes of a notify's last delivery again (a replayed message). */
  async replay(
    notifyId: string,
  ): Promise<TriggerResult<{ notify: Notify; status: number | null; answer: string | null }>> {
    const found = this.#notify(notifyId)
    if (!found.ok) return found
    const result = await this.deps.notifier.replay(found.notify)
    if (result.error === 'NOTIFY_NEVER_SENT')
      return fail(409, 'NOTIFY_NEVER_SENT', 'the notify has not been delivered yet; use resend')
    return { ok: true, notify: found.notify, status: result.status, answer: result.answer }
  }

  /** Makes the next `count` notify delivery attempts fail in `mode`. */
  failNext(count: number, mode: FailMode): TriggerResult<{ mode: FailMode; remaining: number }> {
    this.deps.faults.failNext(count, mode)
    return { ok: true, mode, remaining: count }
  }

  /** Moves sandbox time forward; expiries, refund-period ends and retries that fall due run at once. */
  async advanceClock(seconds: number): Promise<TriggerResult<{ now: number }>> {
    if (!this.deps.advanceClock) return fail(409, 'CLOCK_FIXED', 'this sandbox runs on an injected clock')
    this.deps.advanceClock(seconds * 1000)
    await this.deps.scheduler.idle()
    return { ok: true, now: this.deps.clock.now() }
  }
}

/**
 * Parses a duration like `25h`, `+90m`, `1h30m`, `3d`, `45s` or a plain number of seconds.
 * Returns seconds, or undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().replace(/^\+/, '')
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed)
  const units: Record<string, number> = { d: 86_400, h: 3600, m: 60, s: 1 }
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) return undefined
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0)
}
