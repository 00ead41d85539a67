import QRCode from 'qrcode'
import {
  OUT_TRADE_NO,
  ProtocolError,
  charLength,
  cleanRefundReason,
  compactBeijingTime,
  generateOrderId,
  isAmountInRange,
  isPaidStatus,
  normalizeAmount,
  type KeyRing,
  type Params,
  type PaymentMethodSpecificData,
  type SignType,
} from '@alipay-payment-handler/protocol'
import {
  renderPayFormFragment,
  GatewayError,
  type MapiClient,
  createMapiGateway,
  PAY_TYPES,
  type PayType,
  type PaymentGateway,
  tradeMismatch,
  type TradeLookup,
} from '@alipay-payment-handler/gateway-client'
import { silentLogger, type Logger } from '@alipay-payment-handler/server-runtime'
import { OrderError } from './order-errors.js'
import { runReconciliation, type ReconcileOptions, type ReconcileReport } from './order-reconcile.js'
import type { Order, OrderState, OrderStore, Refund } from './order-store.js'
import { payTransition, tradeTransition } from './order-transitions.js'

export { PAY_TYPES, type PayType } from '@alipay-payment-handler/gateway-client'

/** The order-service API's SUCCESS_RETURN: what a notify endpoint answers once it has accepted a notify. */
export const SUCCESS_RETURN = 'success'

/** An order as callers see it (the order-service API's query() answer). */
export interface OrderView {
  orderId: string
  subject: string
  amount: string
  /** Local state: wait, success, close, timeout. */
  status: OrderState
  tradeStatus: string | null
  tradeNo: string | null
  payTime: string | null
  refunded: string
  expiresAt: string
}

/** getPayUrl's answer: a link (and its QR image) for PRE_PAY/pc, a link and a form for WAP_PAY/mobile. */
export interface PayUrlResult {
  orderId: string
  payType: PayType
  /** The signed pay link; for PRE_PAY on openapi, precreate's qr_code. */
  payUrl: string
  /** PNG data URL of a QR code of payUrl (PRE_PAY, pc). */
  qrCode?: string
  /** Auto-submitting HTML form (WAP_PAY, mobile). */
  form?: string
}

/** What notify() decided, and the exact text to answer. */
export interface NotifyResult {
  /** `success` when the notify was accepted (also for duplicates), `fail` when it should come again. */
  ack: 'success' | 'fail'
  outcome: 'paid' | 'closed' | 'updated' | 'duplicate' | 'refund' | 'rejected' | 'unconfirmed'
  orderId?: string
  code?: string
}

/**
 * The order service's dependencies. `gateway` is either a PaymentGateway (mapi or openapi, see
 * `createPaymentGateway`) or, as before, a MapiClient plus `partner`, `sellerId`, `keys` and
 * `signType`, which are then wrapped into the mapi gateway.
 */
export interface OrderServiceDeps {
  store: OrderStore
  /** The gateway: a PaymentGateway, or a mapi client configured with this merchant's partner and keys. */
  gateway: PaymentGateway | MapiClient
  /** mapi partner (with a MapiClient gateway). */
  partner?: string
  /** The seller account trades must name (required with a MapiClient; defaults to the gateway's). */
  sellerId?: string
  /** mapi: md5Key and/or RSA private key (to sign), the gateway's public key (to verify). */
  keys?: KeyRing
  /** mapi: sign type of requests and PaymentMethodSpecificData. */
  signType?: SignType
  /** Where the gateway (or the payment app's relay) posts notifies for these orders. */
  notifyUrl: string
  /** return_url of getPayUrl's requests (the merchant's own landing page). */
  returnUrl?: string
  /** Product page for the WAP cashier (mapi show_url, openapi quit_url). */
  showUrl?: string
  /** notify_url of mapi refund batches (openapi refunds notify the payment's notify_url). */
  refundNotifyUrl?: string
  /** Relative timeout sent with every order: mapi it_b_pay (needs activation), openapi timeout_express. */
  itBPay?: string
  /** How long an order stays payable locally before `timeout` (default 2 h, or it_b_pay's length). */
  orderTtlMs?: number
  /**
   * Confirm notifies and browser responses with the gateway (default true): mapi asks notify_verify,
   * then single_trade_query; openapi has no notify_verify, its notify signature is the proof, and
   * browser responses are confirmed with alipay.trade.query.
   */
  confirmWithGateway?: boolean
  /**
   * Called once per order, when it becomes paid (by notify, check, confirm or reconciliation):
   * the place to fulfil it. Errors are logged, never undo the payment.
   */
  onPaid?: (order: OrderView, via: PaidVia) => void | Promise<void>
  now?: () => number
  logger?: Logger
}

/** Which path marked an order paid. */
export type PaidVia = 'notify' | 'check' | 'confirm' | 'reconcile'

const DEFAULT_ORDER_TTL_MS = 2 * 3600_000
const SUBJECT_MAX = 128

/** The merchant's order service (its openapi mapping: openapi §9), on a storage interface and a payment gateway. */
export interface OrderService {
  create(subject: string, amount: string, orderId?: string): Promise<OrderView>
  getPayUrl(orderId: string, payType: string): Promise<PayUrlResult>
  paymentData(orderId: string): Promise<{ data: PaymentMethodSpecificData; total: { currency: 'CNY'; value: string } }>
  query(orderId: string): Promise<OrderView>
  check(orderId: string): Promise<OrderView>
  checkThird(order: Order): Promise<Params | Record<string, never>>
  cancel(orderId: string): Promise<OrderView>
  cancelThird(orderId: string): Promise<typeof SUCCESS_RETURN>
  /**
   * Refunds part or all of a paid order. `refundNo` (mapi batch_no, openapi out_request_no) makes
   * it idempotent: a retry with the same number resubmits the same refund and never refunds twice.
   */
  refund(orderId: string, amount: string, reason: string, refundNo?: string): Promise<Refund>
  notify(params: Params): Promise<NotifyResult>
  confirm(orderId: string, details: Record<string, unknown>): Promise<OrderView>
  refunds(orderId: string): Promise<Refund[]>
  generateOrderId(): string
  /**
   * Finds orders whose state disagrees with the gateway, repairs what a notify would have
   * repaired (audited), and reports what needs a human. Concurrent calls share one run.
   */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>
  /** The latest finished reconciliation report (kept in the store, so it survives a restart). */
  latestReconciliation(): Promise<ReconcileReport | undefined>
}

function assertAmount(amount: unknown, field = 'amount'): string {
  if (typeof amount !== 'string') {
    throw new OrderError(
      'AMOUNT_INVALID',
      `${field} must be a decimal string such as "99.99", not a ${typeof amount}: a float has already lost the exact value`,
      { field, type: typeof amount },
    )
  }
  try {
    if (!isAmountInRange(amount)) throw new OrderError('AMOUNT_INVALID', `${field} must be 0.01 to 100000000.00`)
    return normalizeAmount(amount)
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new OrderError('AMOUNT_INVALID', `${field} "${amount}" is not a decimal string with at most 2 decimals`, {
        field,
      })
    }
    throw error
  }
}

function toView(order: Order): OrderView {
  return {
    orderId: order.orderId,
    subject: order.subject,
    amount: order.amount,
    status: order.state,
    tradeStatus: order.tradeStatus ?? null,
    tradeNo: order.tradeNo ?? null,
    payTime: order.payTime ?? null,
    refunded: order.refunded,
    expiresAt: new Date(order.expiresAt).toISOString(),
  }
}

function gatewayFailure(error: unknown, extra: Record<string, unknown> = {}): never {
  if (error instanceof GatewayError) {
    throw new OrderError('GATEWAY_ERROR', `the gateway failed: ${error.code}`, {
      reason: error.code,
      gatewayCode: error.gatewayCode,
      retryable: error.retryable,
      ...extra,
    })
  }
  throw error
}

/** The gateway of the deps: a PaymentGateway as given, a MapiClient wrapped with the mapi fields. */
function resolveGateway(deps: OrderServiceDeps): PaymentGateway {
  const gateway = deps.gateway
  if ('kind' in gateway) return gateway
  const { partner, sellerId, keys, signType } = deps
  if (!partner || !sellerId || !keys || !signType) {
    throw new TypeError('[alipay-server] a MapiClient gateway needs partner, sellerId, keys and signType')
  }
  return createMapiGateway({ client: gateway, partner, sellerId, keys, signType })
}

/** Refund numbers: mapi batch_no (yyyyMMdd + digits), also a valid openapi out_request_no. */
const REFUND_NO = /^[A-Za-z0-9_-]{1,64}$/

/** Creates the order service. */
export function createOrderService(deps: OrderServiceDeps): OrderService {
  const now = deps.now ?? Date.now
  const log = deps.logger ?? silentLogger()
  const confirmWithGateway = deps.confirmWithGateway ?? true
  const gateway = resolveGateway(deps)
  const sellerId = deps.sellerId ?? gateway.sellerId
  let reconciling: Promise<ReconcileReport> | undefined

  async function mustGet(orderId: string): Promise<Order> {
    const order = await deps.store.get(orderId)
    if (!order) throw new OrderError('ORDER_NOT_EXIST', `order ${orderId} does not exist`, { orderId })
    return order
  }

  /** Moves an unpaid order past its deadline to `timeout` (lazily, when it is read). */
  async function fresh(order: Order): Promise<Order> {
    if (order.state === 'wait' && now() >= order.expiresAt) {
      await deps.store.transition(order.orderId, ['wait'], { state: 'timeout' }, now())
      return mustGet(order.orderId)
    }
    return order
  }

  async function mustBePayable(orderId: string): Promise<Order> {
    const order = await fresh(await mustGet(orderId))
    if (order.state !== 'wait') {
      throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is ${order.state}, not waiting for payment`, {
        orderId,
        status: order.state,
      })
    }
    return order
  }

  /** Tells `onPaid` (once per order: only the caller whose transition applied gets here). */
  async function paid(orderId: string, via: PaidVia): Promise<void> {
    log.info('order.paid', { orderId, via })
    if (!deps.onPaid) return
    const order = await deps.store.get(orderId)
    if (!order) return
    try {
      await deps.onPaid(toView(order), via)
    } catch (error) {
      log.error('order.on-paid-failed', { orderId, via, error })
    }
  }

  /** The gateway's view of an order's trade, in the shape both gateways share. */
  const queryTrade = (order: Order): Promise<TradeLookup> =>
    gateway.queryTrade({ orderId: order.orderId, tradeNo: order.tradeNo })

  /** Asks the gateway whether the order is paid, for the amount we expect. */
  async function gatewaySaysPaid(order: Order): Promise<boolean> {
    const result = await queryTrade(order)
    return (
      result.found && isPaidStatus(result.trade.status) && tradeMismatch(order, result.trade, sellerId) === undefined
    )
  }

  async function checkThird(order: Order): Promise<Params | Record<string, never>> {
    let result
    try {
      result = await queryTrade(order)
    } catch (error) {
      gatewayFailure(error)
    }
    if (!result.found) return {}
    const trade = result.trade
    const status = trade.status
    const t = now()
    if (isPaidStatus(status)) {
      const mismatch = tradeMismatch(order, trade, sellerId)
      if (mismatch) {
        log.error('order.trade-mismatch', { orderId: order.orderId, reason: mismatch })
        return trade.raw
      }
    }
    const { move, sync } = tradeTransition(trade)
    if (await deps.store.transition(order.orderId, move.from, move.patch, t)) {
      if (move.patch.state === 'success') await paid(order.orderId, 'check')
    } else if (sync) {
      await deps.store.transition(order.orderId, sync.from, sync.patch, t)
    }
    return trade.raw
  }

  async function cancelThird(orderId: string): Promise<typeof SUCCESS_RETURN> {
    const order = await mustGet(orderId)
    let closed
    try {
      closed = await gateway.closeTrade({ orderId, tradeNo: order.tradeNo, channel: order.payChannel })
    } catch (error) {
      gatewayFailure(error)
    }
    if (closed.closed) {
      // openapi cancel of a QR trade the buyer had paid meanwhile: the gateway refunded it in full.
      if (closed.action === 'refund') log.warn('order.cancel-refunded', { orderId })
      return SUCCESS_RETURN
    }
    // Not closable: paid or already closed. Learn which before answering.
    await checkThird(order)
    const latest = await mustGet(orderId)
    if (latest.state === 'success') {
      throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is already paid`, { orderId, status: 'success' })
    }
    if (latest.tradeStatus === 'TRADE_CLOSED') return SUCCESS_RETURN
    throw new OrderError('GATEWAY_ERROR', `closing the trade was refused with ${closed.error}`, {
      gatewayCode: closed.error,
    })
  }

  async function notify(params: Params): Promise<NotifyResult> {
    const parsed = await gateway.parseNotify(params)
    if (!parsed.ok) {
      log.warn('notify.bad-signature', { reason: parsed.reason })
      return { ack: 'fail', outcome: 'rejected', code: 'INVALID_SIGNATURE' }
    }
    const { notifyId, notifyType } = parsed
    if (parsed.kind === 'refund') {
      const { duplicate } = await deps.store.applyNotify(
        { notifyId, orderId: undefined, notifyType, tradeStatus: undefined, outcome: 'refund', params },
        now(),
      )
      if (duplicate) return { ack: 'success', outcome: 'duplicate' }
      for (const r of parsed.refunds) {
        await deps.store.settleRefund(r.refundNo, r.ok ? 'success' : 'failed', r.code, now())
      }
      return { ack: 'success', outcome: 'refund' }
    }
    const trade = parsed.trade
    const orderId = trade.outTradeNo ?? ''
    const status = trade.status
    const base = { notifyId, notifyType, tradeStatus: status, params }
    if (await deps.store.hasNotify(notifyId)) return { ack: 'success', outcome: 'duplicate', orderId }
    if (parsed.foreign) {
      // Signed by the gateway, but for another merchant: record it for a human, stop the retries.
      log.error('notify.foreign', { orderId, notifyId, reason: parsed.foreign })
      await deps.store.applyNotify({ ...base, orderId: undefined, outcome: `rejected:${parsed.foreign}` }, now())
      return { ack: 'success', outcome: 'rejected', orderId, code: parsed.foreign }
    }
    const order = await deps.store.get(orderId)
    if (!order) {
      // Genuine (signed) but not ours: record it for a human and stop the retries.
      log.error('notify.unknown-order', { orderId, notifyId })
      await deps.store.applyNotify({ ...base, orderId: undefined, outcome: 'rejected:ORDER_NOT_EXIST' }, now())
      return { ack: 'success', outcome: 'rejected', orderId, code: 'ORDER_NOT_EXIST' }
    }
    // openapi: a refund's notify names it (out_biz_no); it settles the refund whatever the status.
    const settleRefund = async () => {
      if (parsed.refundNo) await deps.store.settleRefund(parsed.refundNo, 'success', undefined, now())
    }
    if (isPaidStatus(status)) {
      const mismatch = tradeMismatch(order, trade, sellerId)
      if (mismatch) {
        log.error('notify.rejected', {
          orderId,
          notifyId,
          reason: mismatch,
          expectedAmount: order.amount,
          notifiedAmount: trade.amount,
        })
        await deps.store.applyNotify({ ...base, orderId, outcome: `rejected:${mismatch}` }, now())
        return { ack: 'success', outcome: 'rejected', orderId, code: mismatch }
      }
      if (confirmWithGateway && order.state !== 'success') {
        // notify_verify proves it is fresh from the gateway; once the relay acknowledged it, it
        // answers false, and the trade query is the authority instead. openapi has neither need:
        // its signature is the proof.
        let confirmed = false
        try {
          const fresh = await gateway.confirmNotify(notifyId)
          confirmed = fresh === undefined || fresh || (await gatewaySaysPaid(order))
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error
          log.warn('notify.confirm-failed', { orderId, reason: error.code })
          return { ack: 'fail', outcome: 'unconfirmed', orderId, code: 'GATEWAY_ERROR' }
        }
        if (!confirmed) {
          log.error('notify.not-confirmed', { orderId, notifyId })
          return { ack: 'fail', outcome: 'unconfirmed', orderId, code: 'PAYMENT_NOT_CONFIRMED' }
        }
      }
      const { move, sync } = tradeTransition(trade)
      const result = await deps.store.applyNotify(
        { ...base, orderId, outcome: 'paid', outcomeIfUnchanged: 'updated' },
        now(),
        move,
      )
      if (result.duplicate) return { ack: 'success', outcome: 'duplicate', orderId }
      if (!result.transitioned && sync) await deps.store.transition(orderId, sync.from, sync.patch, now())
      else if (result.transitioned) await paid(orderId, 'notify')
      await settleRefund()
      return { ack: 'success', outcome: result.transitioned ? 'paid' : 'updated', orderId }
    }
    const closing = status === 'TRADE_CLOSED'
    const { move, sync } = tradeTransition(trade)
    const result = await deps.store.applyNotify(
      { ...base, orderId, outcome: closing ? 'closed' : 'updated' },
      now(),
      move,
    )
    if (result.duplicate) return { ack: 'success', outcome: 'duplicate', orderId }
    if (!result.transitioned && sync) await deps.store.transition(orderId, sync.from, sync.patch, now())
    await settleRefund()
    return { ack: 'success', outcome: closing ? 'closed' : 'updated', orderId }
  }

  /** Sends a reserved refund to the gateway and settles it by the answer. */
  async function submitRefund(order: Order, refund: Refund): Promise<Refund> {
    let answer
    try {
      answer = await gateway.refund({
        refundNo: refund.batchNo,
        orderId: order.orderId,
        tradeNo: order.tradeNo ?? '',
        amount: refund.amount,
        reason: refund.reason,
        notifyUrl: deps.refundNotifyUrl,
      })
    } catch (error) {
      // Unknown whether the gateway took it: keep the reservation pending. A retry with the same
      // refundNo resubmits it; the refund notify settles it.
      gatewayFailure(error, { refundNo: refund.batchNo })
    }
    if (answer.state === 'refused') {
      await deps.store.settleRefund(refund.batchNo, 'failed', answer.error, now())
      throw new OrderError('REFUND_REFUSED', `the gateway refused the refund: ${answer.error}`, {
        gatewayCode: answer.error,
        refundNo: refund.batchNo,
      })
    }
    await deps.store.settleRefund(refund.batchNo, answer.state, undefined, now())
    const settled = (await deps.store.refunds(order.orderId)).find((r) => r.batchNo === refund.batchNo)
    if (!settled) throw new Error(`refund ${refund.batchNo} vanished`)
    return settled
  }

  const newRefundNo = () => {
    const random = new Uint32Array(2)
    crypto.getRandomValues(random)
    return `${compactBeijingTime(new Date(now())).slice(0, 8)}${String(random[0]).padStart(10, '0')}${String((random[1] ?? 0) % 100).padStart(2, '0')}`
  }

  return {
    async create(subject, amount, orderId) {
      const value = assertAmount(amount)
      if (typeof subject !== 'string' || subject.trim() === '' || charLength(subject) > SUBJECT_MAX) {
        throw new OrderError('SUBJECT_INVALID', `subject must be 1 to ${SUBJECT_MAX} characters`)
      }
      const id = orderId ?? generateOrderId(new Date(now()))
      if (!OUT_TRADE_NO.test(id)) {
        throw new OrderError('ORDER_ID_INVALID', 'orderId must be 1 to 64 letters, digits, "-" or "_"', { orderId: id })
      }
      const t = now()
      const order: Order = {
        orderId: id,
        subject,
        amount: value,
        state: 'wait',
        tradeStatus: undefined,
        tradeNo: undefined,
        payTime: undefined,
        refunded: '0.00',
        createdAt: t,
        updatedAt: t,
        expiresAt: t + (deps.orderTtlMs ?? DEFAULT_ORDER_TTL_MS),
      }
      await deps.store.insert(order)
      log.info('order.created', { orderId: id })
      return toView(order)
    },

    async getPayUrl(orderId, payType) {
      if (!(PAY_TYPES as readonly string[]).includes(payType)) {
        throw new OrderError('UNKNOWN_PAY_TYPE', `pay type "${payType}" is not one of ${PAY_TYPES.join(', ')}`, {
          payType,
        })
      }
      const order = await mustBePayable(orderId)
      const wap = payType === 'WAP_PAY' || payType === 'mobile'
      let page
      try {
        page = await gateway.payPage({
          order,
          payType: payType as PayType,
          notifyUrl: deps.notifyUrl,
          returnUrl: deps.returnUrl,
          showUrl: deps.showUrl,
          timeout: deps.itBPay,
        })
      } catch (error) {
        gatewayFailure(error)
      }
      // Once a QR code was handed out, the order stays a QR order: only cancel makes the code useless.
      if (order.payChannel !== 'precreate' && order.payChannel !== page.channel) {
        await deps.store.transition(orderId, ['wait'], { payChannel: page.channel }, now())
      }
      const result: PayUrlResult = { orderId, payType: payType as PayType, payUrl: page.payUrl }
      if (wap && page.form) result.form = renderPayFormFragment(page.form)
      else result.qrCode = await QRCode.toDataURL(page.payUrl, { errorCorrectionLevel: 'M', margin: 1 })
      return result
    },

    async paymentData(orderId) {
      const order = await mustBePayable(orderId)
      if (!gateway.paymentData) {
        throw new OrderError(
          'NOT_SUPPORTED_BY_GATEWAY',
          `the ${gateway.kind} gateway has no PaymentMethodSpecificData; use getPayUrl instead`,
          { gateway: gateway.kind },
        )
      }
      const data = await gateway.paymentData({ order, notifyUrl: deps.notifyUrl })
      return { data, total: { currency: 'CNY', value: order.amount } }
    },

    async query(orderId) {
      return toView(await fresh(await mustGet(orderId)))
    },

    async check(orderId) {
      const order = await mustGet(orderId)
      await checkThird(order)
      return toView(await fresh(await mustGet(orderId)))
    },

    checkThird,

    async cancel(orderId) {
      const order = await mustGet(orderId)
      if (order.state === 'success') {
        throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is paid; refund it instead`, {
          orderId,
          status: 'success',
        })
      }
      if (order.state === 'close') return toView(order)
      await cancelThird(orderId)
      await deps.store.transition(orderId, ['wait', 'timeout'], { state: 'close' }, now())
      const closed = await mustGet(orderId)
      log.info('order.cancelled', { orderId, status: closed.state })
      return toView(closed)
    },

    cancelThird,

    async refund(orderId, amount, reason, refundNo) {
      const value = assertAmount(amount)
      const order = await mustGet(orderId)
      if (order.state !== 'success' || !order.tradeNo) {
        throw new OrderError(
          'ORDER_STATE_CONFLICT',
          `order ${orderId} is ${order.state}; only paid orders are refunded`,
          {
            orderId,
            status: order.state,
          },
        )
      }
      if (refundNo !== undefined && !REFUND_NO.test(refundNo)) {
        throw new OrderError('REFUND_CONFLICT', 'refundNo must be 1 to 64 letters, digits, "-" or "_"', { refundNo })
      }
      const existing =
        refundNo === undefined ? undefined : (await deps.store.refunds(orderId)).find((r) => r.batchNo === refundNo)
      if (existing) {
        if (existing.amount !== value) {
          throw new OrderError('REFUND_CONFLICT', `refund ${refundNo} of order ${orderId} was for ${existing.amount}`, {
            refundNo,
            amount: existing.amount,
          })
        }
        // Settled, or (mapi) accepted and waiting for its notify: the same answer again.
        if (existing.state === 'success' || existing.state === 'failed') return existing
        if (existing.state === 'submitted' && gateway.kind === 'mapi') return existing
        log.info('order.refund-retry', { orderId, refundNo })
        return submitRefund(order, existing)
      }
      // A reason the mapi batch grammar can carry (mapi §10.1); openapi gets the same text.
      const cleanReason = cleanRefundReason(reason || 'refund')
      const batchNo = refundNo ?? newRefundNo()
      const reserved = await deps.store.reserveRefund({ batchNo, orderId, amount: value, reason: cleanReason }, now())
      if (!reserved) {
        throw new OrderError('REFUND_AMOUNT_EXCEEDED', `refunds of order ${orderId} would exceed ${order.amount}`, {
          orderId,
          refunded: order.refunded,
          requested: value,
        })
      }
      return submitRefund(order, {
        batchNo,
        orderId,
        amount: value,
        reason: cleanReason,
        state: 'pending',
        gatewayCode: undefined,
      })
    },

    notify,

    async confirm(orderId, details) {
      const order = await mustGet(orderId)
      const verified = await gateway.verifyPaymentResponse(details)
      if (!verified.ok) {
        throw new OrderError(
          'INVALID_SIGNATURE',
          `the response's gateway signature does not verify (${verified.reason})`,
          {
            reason: verified.reason,
          },
        )
      }
      if (verified.paid === false) {
        throw new OrderError('PAYMENT_NOT_SUCCESSFUL', 'the response does not report a paid trade', {
          tradeStatus: verified.trade.status,
        })
      }
      const mismatch = tradeMismatch(order, verified.trade, sellerId)
      if (mismatch) {
        log.error('confirm.rejected', { orderId, reason: mismatch })
        throw new OrderError(mismatch, `the response does not match order ${orderId} (${mismatch})`)
      }
      // A bare openapi return says nothing about payment: then only the gateway can.
      if (order.state !== 'success' && (confirmWithGateway || verified.paid === undefined)) {
        let confirmed = false
        try {
          confirmed = await gatewaySaysPaid(order)
        } catch (error) {
          gatewayFailure(error)
        }
        if (!confirmed) throw new OrderError('PAYMENT_NOT_CONFIRMED', 'the gateway does not confirm this payment yet')
      }
      let paidTrade = verified.trade
      if (verified.paid === undefined) {
        // The return has no status: the query that confirmed it does.
        const lookup = await queryTrade(order).catch(() => undefined)
        if (lookup?.found) paidTrade = lookup.trade
      }
      const move = payTransition(paidTrade)
      if (await deps.store.transition(orderId, move.from, move.patch, now())) {
        await paid(orderId, 'confirm')
      }
      return toView(await mustGet(orderId))
    },

    refunds: (orderId) => deps.store.refunds(orderId),
    generateOrderId: () => generateOrderId(new Date(now())),

    reconcile(options) {
      // One run at a time: the schedule and an on-demand call share it instead of querying twice.
      reconciling ??= runReconciliation(
        {
          store: deps.store,
          sellerId,
          queryTrade,
          paid: (order) => paid(order.orderId, 'reconcile'),
          now,
          log,
        },
        options,
      ).finally(() => (reconciling = undefined))
      return reconciling
    },

    async latestReconciliation() {
      return (await deps.store.latestReconcileReport()) as ReconcileReport | undefined
    },
  }
}
