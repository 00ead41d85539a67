import QRCode from 'qrcode'
import {
  APP_PAY_SERVICE,
  OUT_TRADE_NO,
  PC_PAY_SERVICE,
  ProtocolError,
  WAP_PAY_SERVICE,
  amountsEqual,
  charLength,
  compactBeijingTime,
  generateOrderId,
  isAmountInRange,
  isPaidStatus,
  normalizeAmount,
  signParams,
  verifyParams,
  verifyPaymentResponse,
  type KeyRing,
  type Params,
  type PaymentMethodSpecificData,
  type SignType,
} from '../protocol/index'
import { renderPayFormFragment } from './cashier-page'
import { GatewayError } from './gateway-error'
import { silentLogger, type Logger } from './logger'
import type { MapiClient } from './mapi-client'
import { OrderError } from './order-errors'
import type { Order, OrderPatch, OrderState, OrderStore, Refund } from './order-store'

/** Pay types: the seeds' PRE_PAY (QR) and WAP_PAY (mobile form), and PaySvc's pc/mobile aliases. */
export const PAY_TYPES = ['PRE_PAY', 'WAP_PAY', 'pc', 'mobile'] as const
export type PayType = (typeof PAY_TYPES)[number]

/** The seeds' SUCCESS_RETURN: what a notify endpoint answers once it has accepted a notify. */
export const SUCCESS_RETURN = 'success'

/** An order as callers see it (the seeds' query() answer). */
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

export interface OrderServiceDeps {
  store: OrderStore
  /** The gateway client, configured with this merchant's partner and keys. */
  gateway: MapiClient
  partner: string
  sellerId: string
  /** The merchant's keys: md5Key and/or RSA private key (to sign), the gateway's public key (to verify). */
  keys: KeyRing
  signType: SignType
  /** Where the gateway (or the payment app's relay) posts notifies for these orders. */
  notifyUrl: string
  /** return_url of getPayUrl's requests (the merchant's own landing page). */
  returnUrl?: string
  /** Product page for the WAP cashier (mapi §3.3). */
  showUrl?: string
  /** notify_url of refund batches. */
  refundNotifyUrl?: string
  /** it_b_pay to send with every order (needs activation by Alipay); none by default. */
  itBPay?: string
  /** How long an order stays payable locally before `timeout` (default 2 h, or it_b_pay's length). */
  orderTtlMs?: number
  /** Confirm notifies and browser responses with notify_verify / single_trade_query (default true). */
  confirmWithGateway?: boolean
  now?: () => number
  logger?: Logger
}

const DEFAULT_ORDER_TTL_MS = 2 * 3600_000
const SUBJECT_MAX = 128

/** The merchant's order service (seeds 000 and 002), on a storage interface and the gateway client. */
export interface OrderService {
  create(subject: string, amount: string, orderId?: string): Promise<OrderView>
  getPayUrl(orderId: string, payType: string): Promise<PayUrlResult>
  paymentData(orderId: string): Promise<{ data: PaymentMethodSpecificData; total: { currency: 'CNY'; value: string } }>
  query(orderId: string): Promise<OrderView>
  check(orderId: string): Promise<OrderView>
  checkThird(order: Order): Promise<Params | Record<string, never>>
  cancel(orderId: string): Promise<OrderView>
  cancelThird(orderId: string): Promise<typeof SUCCESS_RETURN>
  refund(orderId: string, amount: string, reason: string): Promise<Refund>
  notify(params: Params): Promise<NotifyResult>
  confirm(orderId: string, details: Record<string, unknown>): Promise<OrderView>
  refunds(orderId: string): Promise<Refund[]>
  generateOrderId(): string
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

function gatewayFailure(error: unknown): never {
  if (error instanceof GatewayError) {
    throw new OrderError('GATEWAY_ERROR', `the gateway failed: ${error.code}`, {
      reason: error.code,
      gatewayCode: error.gatewayCode,
      retryable: error.retryable,
    })
  }
  throw error
}

/** Creates the order service. */
export function createOrderService(deps: OrderServiceDeps): OrderService {
  const now = deps.now ?? Date.now
  const log = deps.logger ?? silentLogger()
  const confirmWithGateway = deps.confirmWithGateway ?? true

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

  /** The paid-trade checks of mapi §6.4 (order, amount, seller), on a gateway-signed set. */
  function tradeMismatch(
    order: Order,
    params: Readonly<Record<string, unknown>>,
  ): 'ORDER_MISMATCH' | 'AMOUNT_MISMATCH' | 'SELLER_MISMATCH' | undefined {
    if (params['out_trade_no'] !== order.orderId) return 'ORDER_MISMATCH'
    const fee = params['total_fee']
    let equal = false
    try {
      equal = typeof fee === 'string' && amountsEqual(fee, order.amount)
    } catch {
      equal = false
    }
    if (!equal) return 'AMOUNT_MISMATCH'
    const seller = params['seller_id']
    if (seller !== undefined && seller !== deps.sellerId) return 'SELLER_MISMATCH'
    return undefined
  }

  const paidPatch = (params: Readonly<Record<string, unknown>>): OrderPatch => ({
    state: 'success',
    tradeStatus: params['trade_status'] as string | undefined,
    tradeNo: params['trade_no'] as string | undefined,
    payTime: (params['gmt_payment'] as string | undefined) ?? (params['notify_time'] as string | undefined),
  })

  /** Asks the gateway whether the order is paid, for the amount we expect. */
  async function gatewaySaysPaid(order: Order): Promise<boolean> {
    const result = await deps.gateway.singleTradeQuery({ tradeNo: order.tradeNo, outTradeNo: order.orderId })
    return (
      result.found && isPaidStatus(result.trade['trade_status']) && tradeMismatch(order, result.trade) === undefined
    )
  }

  async function checkThird(order: Order): Promise<Params | Record<string, never>> {
    let result
    try {
      result = await deps.gateway.singleTradeQuery({ tradeNo: order.tradeNo, outTradeNo: order.orderId })
    } catch (error) {
      gatewayFailure(error)
    }
    if (!result.found) return {}
    const trade = result.trade
    const status = trade['trade_status']
    const t = now()
    if (isPaidStatus(status)) {
      const mismatch = tradeMismatch(order, trade)
      if (mismatch) {
        log.error('order.trade-mismatch', { orderId: order.orderId, reason: mismatch })
        return trade
      }
      await deps.store.transition(order.orderId, ['wait', 'timeout', 'close'], paidPatch(trade), t)
      // Already paid: keep the newest gateway status (TRADE_SUCCESS → TRADE_FINISHED).
      await deps.store.transition(order.orderId, ['success'], { tradeStatus: status }, t)
    } else if (status === 'TRADE_CLOSED') {
      await deps.store.transition(
        order.orderId,
        ['wait', 'timeout'],
        { state: 'close', tradeStatus: status, tradeNo: trade['trade_no'] },
        t,
      )
      await deps.store.transition(order.orderId, ['close', 'success'], { tradeStatus: status }, t)
    } else {
      await deps.store.transition(
        order.orderId,
        ['wait', 'timeout', 'close'],
        { tradeStatus: status, tradeNo: trade['trade_no'] },
        t,
      )
    }
    return trade
  }

  async function cancelThird(orderId: string): Promise<typeof SUCCESS_RETURN> {
    const order = await mustGet(orderId)
    let closed
    try {
      closed = await deps.gateway.closeTrade({ tradeNo: order.tradeNo, outTradeNo: orderId })
    } catch (error) {
      gatewayFailure(error)
    }
    if (closed.closed || closed.error === 'TRADE_NOT_EXIST') return SUCCESS_RETURN
    // Not closable: paid or already closed. Learn which before answering.
    await checkThird(order)
    const latest = await mustGet(orderId)
    if (latest.state === 'success') {
      throw new OrderError('ORDER_STATE_CONFLICT', `order ${orderId} is already paid`, { orderId, status: 'success' })
    }
    if (latest.tradeStatus === 'TRADE_CLOSED') return SUCCESS_RETURN
    throw new OrderError('GATEWAY_ERROR', `close_trade refused with ${closed.error}`, { gatewayCode: closed.error })
  }

  async function handleRefundNotify(params: Params): Promise<NotifyResult> {
    const notifyId = params['notify_id'] ?? ''
    const batchNo = params['batch_no'] ?? ''
    const details = (params['result_details'] ?? '').split('#')
    const ok = details.length > 0 && details.every((entry) => entry.split('$')[0]?.split('^')[2] === 'SUCCESS')
    const { duplicate } = await deps.store.applyNotify(
      {
        notifyId,
        orderId: undefined,
        notifyType: 'batch_refund_notify',
        tradeStatus: undefined,
        outcome: 'refund',
        params,
      },
      now(),
    )
    if (duplicate) return { ack: 'success', outcome: 'duplicate' }
    const code = ok ? undefined : details.map((d) => d.split('^')[2]).find((r) => r !== 'SUCCESS')
    await deps.store.settleRefund(batchNo, ok ? 'success' : 'failed', code, now())
    return { ack: 'success', outcome: 'refund' }
  }

  async function notify(params: Params): Promise<NotifyResult> {
    const verified = await verifyParams(params, { keys: deps.keys })
    if (!verified.ok) {
      log.warn('notify.bad-signature', { reason: verified.reason })
      return { ack: 'fail', outcome: 'rejected', code: 'INVALID_SIGNATURE' }
    }
    if (params['notify_type'] === 'batch_refund_notify') return handleRefundNotify(params)
    const notifyId = params['notify_id'] ?? ''
    const orderId = params['out_trade_no'] ?? ''
    const status = params['trade_status']
    const base = { notifyId, notifyType: params['notify_type'] ?? 'trade_status_sync', tradeStatus: status, params }
    if (await deps.store.hasNotify(notifyId)) return { ack: 'success', outcome: 'duplicate', orderId }
    const order = await deps.store.get(orderId)
    if (!order) {
      // Genuine (signed) but not ours: record it for a human and stop the retries.
      log.error('notify.unknown-order', { orderId, notifyId })
      await deps.store.applyNotify({ ...base, orderId: undefined, outcome: 'rejected:ORDER_NOT_EXIST' }, now())
      return { ack: 'success', outcome: 'rejected', orderId, code: 'ORDER_NOT_EXIST' }
    }
    if (isPaidStatus(status)) {
      const mismatch = tradeMismatch(order, params)
      if (mismatch) {
        log.error('notify.rejected', {
          orderId,
          notifyId,
          reason: mismatch,
          expectedAmount: order.amount,
          notifiedAmount: params['total_fee'],
        })
        await deps.store.applyNotify({ ...base, orderId, outcome: `rejected:${mismatch}` }, now())
        return { ack: 'success', outcome: 'rejected', orderId, code: mismatch }
      }
      if (confirmWithGateway) {
        // notify_verify proves it is fresh from the gateway; once the relay acknowledged it, it
        // answers false, and single_trade_query is the authority instead.
        let confirmed = false
        try {
          confirmed = (await deps.gateway.notifyVerify(notifyId)) === 'true' || (await gatewaySaysPaid(order))
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
      const result = await deps.store.applyNotify(
        { ...base, orderId, outcome: 'paid', outcomeIfUnchanged: 'updated' },
        now(),
        {
          from: ['wait', 'timeout', 'close'],
          patch: paidPatch(params),
        },
      )
      if (result.duplicate) return { ack: 'success', outcome: 'duplicate', orderId }
      if (!result.transitioned) await deps.store.transition(orderId, ['success'], { tradeStatus: status }, now())
      log.info('order.paid', { orderId, via: 'notify', first: result.transitioned })
      return { ack: 'success', outcome: result.transitioned ? 'paid' : 'updated', orderId }
    }
    const closing = status === 'TRADE_CLOSED'
    const result = await deps.store.applyNotify(
      { ...base, orderId, outcome: closing ? 'closed' : 'updated' },
      now(),
      closing
        ? { from: ['wait', 'timeout'], patch: { state: 'close', tradeStatus: status } }
        : { from: ['wait', 'timeout', 'close', 'success'], patch: { tradeStatus: status } },
    )
    if (result.duplicate) return { ack: 'success', outcome: 'duplicate', orderId }
    if (closing && !result.transitioned)
      await deps.store.transition(orderId, ['success', 'close'], { tradeStatus: status }, now())
    return { ack: 'success', outcome: closing ? 'closed' : 'updated', orderId }
  }

  const baseRequest = (order: Order): Params => {
    const params: Params = {
      partner: deps.partner,
      _input_charset: 'utf-8',
      notify_url: deps.notifyUrl,
      out_trade_no: order.orderId,
      subject: order.subject,
      payment_type: '1',
      seller_id: deps.sellerId,
      total_fee: order.amount,
    }
    if (deps.itBPay) params['it_b_pay'] = deps.itBPay
    return params
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
      const params: Params = { service: wap ? WAP_PAY_SERVICE : PC_PAY_SERVICE, ...baseRequest(order) }
      if (deps.returnUrl) params['return_url'] = deps.returnUrl
      if (wap && deps.showUrl) params['show_url'] = deps.showUrl
      const request = await deps.gateway.buildPayRequest(params)
      const result: PayUrlResult = { orderId, payType: payType as PayType, payUrl: request.url }
      if (wap) result.form = renderPayFormFragment(request.form)
      else result.qrCode = await QRCode.toDataURL(request.url, { errorCorrectionLevel: 'M', margin: 1 })
      return result
    },

    async paymentData(orderId) {
      const order = await mustBePayable(orderId)
      const data = await signParams(
        { service: APP_PAY_SERVICE, ...baseRequest(order) },
        { signType: deps.signType, keys: deps.keys },
      )
      return { data: data as PaymentMethodSpecificData, total: { currency: 'CNY', value: order.amount } }
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

    async refund(orderId, amount, reason) {
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
      const cleanReason = (reason || 'refund').replace(/[\^|$#]/g, ' ').slice(0, 80)
      const random = new Uint32Array(2)
      crypto.getRandomValues(random)
      const batchNo = `${compactBeijingTime(new Date(now())).slice(0, 8)}${String(random[0]).padStart(10, '0')}${String((random[1] ?? 0) % 100).padStart(2, '0')}`
      const reserved = await deps.store.reserveRefund({ batchNo, orderId, amount: value, reason: cleanReason }, now())
      if (!reserved) {
        throw new OrderError('REFUND_AMOUNT_EXCEEDED', `refunds of order ${orderId} would exceed ${order.amount}`, {
          orderId,
          refunded: order.refunded,
          requested: value,
        })
      }
      let answer
      try {
        answer = await deps.gateway.refund({
          batchNo,
          tradeNo: order.tradeNo,
          amount: value,
          reason: cleanReason,
          ...(deps.refundNotifyUrl ? { notifyUrl: deps.refundNotifyUrl } : {}),
        })
      } catch (error) {
        // Unknown whether the gateway took it: keep the reservation pending; the refund notify settles it.
        gatewayFailure(error)
      }
      if (!answer.accepted) {
        await deps.store.settleRefund(batchNo, 'failed', answer.error, now())
        throw new OrderError('REFUND_REFUSED', `the gateway refused the refund: ${answer.error}`, {
          gatewayCode: answer.error,
        })
      }
      await deps.store.settleRefund(batchNo, 'submitted', undefined, now())
      const refund = (await deps.store.refunds(orderId)).find((r) => r.batchNo === batchNo)
      if (!refund) throw new Error(`refund ${batchNo} vanished`)
      return refund
    },

    notify,

    async confirm(orderId, details) {
      const order = await mustGet(orderId)
      const verified = await verifyPaymentResponse(details, deps.keys)
      if (!verified.ok) {
        throw new OrderError(
          'INVALID_SIGNATURE',
          `the response's gateway signature does not verify (${verified.reason})`,
          {
            reason: verified.reason,
          },
        )
      }
      if (details['success'] !== 'true' || !isPaidStatus(details['trade_status'] as string | undefined)) {
        throw new OrderError('PAYMENT_NOT_SUCCESSFUL', 'the response does not report a paid trade', {
          tradeStatus: details['trade_status'],
        })
      }
      const mismatch = tradeMismatch(order, details)
      if (mismatch) {
        log.error('confirm.rejected', { orderId, reason: mismatch })
        throw new OrderError(mismatch, `the response does not match order ${orderId} (${mismatch})`)
      }
      if (order.state !== 'success' && confirmWithGateway) {
        let paid = false
        try {
          paid = await gatewaySaysPaid(order)
        } catch (error) {
          gatewayFailure(error)
        }
        if (!paid) throw new OrderError('PAYMENT_NOT_CONFIRMED', 'the gateway does not confirm this payment yet')
      }
      await deps.store.transition(orderId, ['wait', 'timeout', 'close'], paidPatch(details), now())
      log.info('order.paid', { orderId, via: 'confirm' })
      return toView(await mustGet(orderId))
    },

    refunds: (orderId) => deps.store.refunds(orderId),
    generateOrderId: () => generateOrderId(new Date(now())),
  }
}
