import { BARCODE_POLL_INTERVAL_MS, BARCODE_TIME_LIMIT_MS, barcodeQueryOutcome } from '@alipay-payment-handler/protocol'
import {
  GatewayError,
  tradeMismatch,
  type CounterGateway,
  type TradeSnapshot,
} from '@alipay-payment-handler/gateway-client'
import { gatewayFailure, toView, type OrderContext } from './order-context.js'
import { OrderError } from './order-errors.js'
import type { OrderView } from './order-types.js'
import { tradeTransition } from './order-transitions.js'

/** Options of `payWithBuyerCode`: the seed's 5 s and the time limit by default; tests pass short ones. */
export interface BuyerCodeOptions {
  /** Stops the polling; the trade is then cancelled at the gateway so the buyer cannot pay it later. */
  signal?: AbortSignal | undefined
  /** Between two queries of a trade waiting for the buyer's password. Default 5 s. */
  pollIntervalMs?: number | undefined
  /** How long to poll before cancelling. Default 30 s (openapi-protocol §14.1). */
  timeLimitMs?: number | undefined
  /** Told what happens, e.g. to show "waiting for the buyer's password" at the counter. */
  onProgress?: ((stage: BuyerCodeStage) => void) | undefined
}

/** Where a barcode payment is: sent, the buyer must confirm, the outcome is unknown (querying), cancelling. */
export type BuyerCodeStage = 'paying' | 'waiting-for-password' | 'unknown' | 'cancelling'

/** How a barcode payment ended. */
export type BuyerCodeResult =
  | { outcome: 'paid'; order: OrderView }
  /** A business failure (40004 …): the order stays payable, the cashier may scan a new code. */
  | { outcome: 'failed'; order: OrderView; code: string; subCode: string | undefined; subMsg: string | undefined }
  /**
   * Not paid: cancelled after the time limit or on abort, or closed at the gateway. `refunded` is
   * true when the buyer had paid just before the cancel, which then refunded them in full.
   */
  | { outcome: 'cancelled'; order: OrderView; reason: 'time-limit' | 'aborted' | 'closed'; refunded: boolean }

/** The order service's counter use cases (openapi-protocol §14.1–14.3). */
export interface CounterUseCases {
  /**
   * Face-to-face barcode payment with the buyer's code, by the seed's flow: `10000` paid; `10003`
   * query every `pollIntervalMs` until a final status or `timeLimitMs`, then cancel; `20000` or no
   * reply: the same; `40004`: failed with the sub-code. Settles the order before it returns.
   */
  payWithBuyerCode(orderId: string, authCode: string, options?: BuyerCodeOptions): Promise<BuyerCodeResult>
  /** `alipay.trade.create` for the order (JSAPI and the like): the gateway's trade_no. */
  createTrade(
    orderId: string,
    options?: { buyerId?: string | undefined },
  ): Promise<{ orderId: string; tradeNo: string }>
  /** The signed `alipay.trade.app.pay` order string the merchant's app passes to the Alipay SDK. */
  appPayOrderString(orderId: string): Promise<{ orderId: string; orderString: string }>
}

/** Digits only, as a scanner types them; Alipay's own codes are 18 digits starting 25–30. */
const AUTH_CODE = /^\d{10,32}$/

/** Waits `ms`, or less when `signal` aborts; never rejects. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export function counterUseCases(ctx: OrderContext): CounterUseCases {
  const { deps, now, log, gateway, sellerId, mustGet, mustBePayable, paid, queryTrade } = ctx

  function counter(): CounterGateway {
    if (!gateway.counter) {
      throw new OrderError(
        'NOT_SUPPORTED_BY_GATEWAY',
        `the ${gateway.kind} gateway has no face-to-face or APP methods; use an openapi app`,
        { gateway: gateway.kind },
      )
    }
    return gateway.counter
  }

  /** Applies a trade the gateway vouched for; true when the order is now paid. */
  async function settle(orderId: string, trade: TradeSnapshot): Promise<boolean> {
    const order = await mustGet(orderId)
    const mismatch = tradeMismatch(order, trade, sellerId)
    if (mismatch) {
      log.error('order.trade-mismatch', { orderId, reason: mismatch })
      throw new OrderError(mismatch, `the gateway's trade does not match order ${orderId}`, { orderId })
    }
    const { move, sync } = tradeTransition(trade, order.tradeStatus)
    if (await deps.store.transition(orderId, move.from, move.patch, now())) {
      if (move.patch.state === 'success') await paid(orderId, 'barcode')
    } else if (sync) {
      await deps.store.transition(orderId, sync.from, sync.patch, now())
    }
    return (await mustGet(orderId)).state === 'success'
  }

  const view = async (orderId: string) => toView(await mustGet(orderId))

  /** Cancels the trade (cancel also refunds one paid meanwhile) and closes the order. */
  async function cancel(orderId: string, reason: 'time-limit' | 'aborted'): Promise<BuyerCodeResult> {
    const order = await mustGet(orderId)
    let closed
    try {
      closed = await gateway.closeTrade({ orderId, tradeNo: order.tradeNo, channel: 'barcode' })
    } catch (error) {
      // The trade may still be payable: leave the order waiting for reconciliation to settle.
      log.error('order.barcode-cancel-failed', { orderId, error })
      gatewayFailure(error, { orderId })
    }
    if (!closed.closed) {
      // Not cancellable: most likely paid in the meantime. Ask once more.
      const found = await queryTrade(order)
      if (found.found && (await settle(orderId, found.trade))) return { outcome: 'paid', order: await view(orderId) }
      throw new OrderError('GATEWAY_ERROR', `cancelling the trade was refused with ${closed.error}`, {
        gatewayCode: closed.error,
      })
    }
    await deps.store.transition(orderId, ['wait', 'timeout'], { state: 'close', tradeStatus: 'TRADE_CLOSED' }, now())
    const refunded = closed.action === 'refund'
    if (refunded) log.warn('order.cancel-refunded', { orderId })
    log.info('order.barcode-cancelled', { orderId, reason })
    return { outcome: 'cancelled', order: await view(orderId), reason, refunded }
  }

  return {
    async payWithBuyerCode(orderId, authCode, options = {}) {
      const code = typeof authCode === 'string' ? authCode.trim() : ''
      if (!AUTH_CODE.test(code))
        throw new OrderError('AUTH_CODE_INVALID', 'the buyer code must be 10 to 32 digits, as the scanner reads it')
      const desk = counter()
      const { signal } = options
      const interval = options.pollIntervalMs ?? BARCODE_POLL_INTERVAL_MS
      const limit = options.timeLimitMs ?? BARCODE_TIME_LIMIT_MS
      const progress = (stage: BuyerCodeStage) => options.onProgress?.(stage)
      signal?.throwIfAborted()
      const order = await mustBePayable(orderId)
      // A barcode trade is cancelled, never closed: cancel also stops a pending password prompt.
      await deps.store.transition(orderId, ['wait'], { payChannel: 'barcode' }, now())
      progress('paying')
      const reply = await desk.payWithCode({ order, authCode: code, notifyUrl: deps.notifyUrl })
      log.info('order.barcode-reply', { orderId, kind: reply.kind })
      if (reply.kind === 'failed') {
        return {
          outcome: 'failed',
          order: await view(orderId),
          code: reply.code,
          subCode: reply.subCode,
          subMsg: reply.subMsg,
        }
      }
      if (reply.kind === 'paid') {
        if (await settle(orderId, { ...reply.trade, status: reply.trade.status ?? 'TRADE_SUCCESS' }))
          return { outcome: 'paid', order: await view(orderId) }
      }
      progress(reply.kind === 'waiting' ? 'waiting-for-password' : 'unknown')
      const deadline = now() + limit
      while (!signal?.aborted && now() < deadline) {
        await pause(Math.min(interval, Math.max(0, deadline - now())), signal)
        if (signal?.aborted) break
        let found
        try {
          found = await queryTrade(await mustGet(orderId))
        } catch (error) {
          // A failed query is no answer: keep polling until the time limit.
          if (!(error instanceof GatewayError)) throw error
          log.warn('order.barcode-query-failed', { orderId, reason: error.code })
          continue
        }
        if (!found.found) continue
        const outcome = barcodeQueryOutcome(found.trade.status)
        if (outcome === 'pending') {
          await settle(orderId, found.trade)
          continue
        }
        if (await settle(orderId, found.trade)) return { outcome: 'paid', order: await view(orderId) }
        return { outcome: 'cancelled', order: await view(orderId), reason: 'closed', refunded: false }
      }
      progress('cancelling')
      return cancel(orderId, signal?.aborted ? 'aborted' : 'time-limit')
    },

    async createTrade(orderId, options = {}) {
      const desk = counter()
      const order = await mustBePayable(orderId)
      let created
      try {
        created = await desk.createTrade({ order, buyerId: options.buyerId, notifyUrl: deps.notifyUrl })
      } catch (error) {
        gatewayFailure(error, { orderId })
      }
      await deps.store.transition(orderId, ['wait'], { tradeNo: created.tradeNo, payChannel: 'create' }, now())
      return { orderId, tradeNo: created.tradeNo }
    },

    async appPayOrderString(orderId) {
      const desk = counter()
      const order = await mustBePayable(orderId)
      const orderString = await desk.appPayOrderString({ order, notifyUrl: deps.notifyUrl, timeout: deps.itBPay })
      await deps.store.transition(orderId, ['wait'], { payChannel: 'app' }, now())
      return { orderId, orderString }
    },
  }
}
