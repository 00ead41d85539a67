import QRCode from 'qrcode'
import { OUT_TRADE_NO, charLength, generateOrderId } from '@alipay-payment-handler/protocol'
import { PAY_TYPES, renderPayFormFragment, type PayType } from '@alipay-payment-handler/gateway-client'
import { assertAmount, gatewayFailure, toView, type OrderContext } from './order-context.js'
import { OrderError } from './order-errors.js'
import type { OrderService, PayUrlResult } from './order-types.js'
import type { Order } from './order-store.js'

const DEFAULT_ORDER_TTL_MS = 2 * 3600_000
const SUBJECT_MAX = 128
/** Generated ids tried before a collision is reported (one in 10^18 each with the default ids). */
const ID_ATTEMPTS = 5

/** Taking a payment: create the order, then a cashier link, QR code or WAP form, or Payment Request data. */
export function checkoutUseCases(ctx: OrderContext): Pick<OrderService, 'create' | 'getPayUrl' | 'paymentData'> {
  const { deps, now, log, gateway, mustBePayable } = ctx
  const nextOrderId = deps.newOrderId ?? (() => generateOrderId(new Date(now())))

  /**
   * Inserts an order under a generated id. The store refuses a taken id (ORDER_EXISTS, never an
   * overwrite); a generated id that collides is drawn again, a few times, before the error stands.
   */
  async function insertWithFreshId(newOrder: (id: string) => Order): Promise<Order> {
    for (let attempt = 1; ; attempt++) {
      const order = newOrder(nextOrderId())
      try {
        await deps.store.insert(order)
        return order
      } catch (error) {
        if (!(error instanceof OrderError && error.code === 'ORDER_EXISTS') || attempt >= ID_ATTEMPTS) throw error
        log.warn('order.id-collision', { orderId: order.orderId, attempt })
      }
    }
  }

  return {
    async create(subject, amount, orderId) {
      const value = assertAmount(amount)
      if (typeof subject !== 'string' || subject.trim() === '' || charLength(subject) > SUBJECT_MAX) {
        throw new OrderError('SUBJECT_INVALID', `subject must be 1 to ${SUBJECT_MAX} characters`)
      }
      const newOrder = (id: string): Order => {
        if (!OUT_TRADE_NO.test(id)) {
          throw new OrderError('ORDER_ID_INVALID', 'orderId must be 1 to 64 letters, digits, "-" or "_"', {
            orderId: id,
          })
        }
        const t = now()
        return {
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
      }
      let order: Order
      if (orderId != null) {
        // The caller's own id: taken means ORDER_EXISTS, never a second order under it.
        order = newOrder(orderId)
        await deps.store.insert(order)
      } else {
        order = await insertWithFreshId(newOrder)
      }
      const id = order.orderId
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
      // The order's own deadline, signed: the payment app opens no session for this data after it.
      const data = await gateway.paymentData({
        order,
        notifyUrl: deps.notifyUrl,
        expiresAt: new Date(order.expiresAt),
      })
      return { data, total: { currency: 'CNY', value: order.amount } }
    },
  }
}
