import { compareAmounts, orderIdTime, subtractAmounts } from '@alipay-payment-handler/protocol'
import type { OrderService, OrderView as ServiceOrderView, OrderStore } from '@alipay-payment-handler/merchant'
import type { NotifyView, OrderView } from '../common/views.js'
import type { ShopLedger } from './shop-ledger.js'
import type { ShopOrders } from './shop-orders.js'

/** What the adapter is built from: the order service, its store (for notifies) and the shop's ledger. */
export interface ShopOrdersDeps {
  service: OrderService
  store: OrderStore
  ledger: ShopLedger
  /** The label of the Payment Request total, e.g. the shop's name. */
  totalLabel?: string
  now?: () => number
}

/** How many orders the orders page lists. */
const LIST_LIMIT = 50

/** mapi's notify_time is Beijing time without a zone ("2026-01-01 12:00:00"). */
function beijingToIso(value: string | undefined): string | undefined {
  if (!value || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(value)) return undefined
  return new Date(`${value.replace(' ', 'T')}+08:00`).toISOString()
}

/**
 * Fits the merchant package's order service to the routes of the shop: one view shape
 * for every answer, the order's notifies attached, and `refund` shown once all the money
 * went back.
 */
export function createShopOrders(deps: ShopOrdersDeps): ShopOrders {
  const { service, store, ledger } = deps
  const now = deps.now ?? Date.now

  async function view(order: ServiceOrderView): Promise<OrderView> {
    const notifies: NotifyView[] = (await store.notifies(order.orderId)).map((n) => ({
      receivedAt: beijingToIso(n.params['notify_time']) ?? '',
      notifyType: n.notifyType,
      tradeStatus: n.tradeStatus,
      verified: !n.outcome.startsWith('rejected'),
    }))
    const refunded = order.refunded !== '0.00' ? order.refunded : undefined
    const fullyRefunded =
      order.status === 'success' && refunded !== undefined && compareAmounts(refunded, order.amount) >= 0
    return {
      orderId: order.orderId,
      subject: order.subject,
      amount: order.amount,
      status: fullyRefunded ? 'refund' : order.status,
      gatewayStatus: order.tradeStatus ?? undefined,
      tradeNo: order.tradeNo ?? undefined,
      // The service's view has no creation time; the order id carries it (D + yyyyMMddHHmmss).
      createdAt: orderIdTime(order.orderId)?.toISOString() ?? '',
      paidAt: beijingToIso(order.payTime ?? undefined),
      refundedAmount: refunded,
      ...(order.latePayment ? { latePayment: order.latePayment } : {}),
      notifies,
    }
  }

  return {
    async create({ subject, amount }) {
      const order = await service.create(subject, amount)
      ledger.add(order.orderId, now())
      return view(order)
    },
    async list() {
      const ids = await ledger.recent(LIST_LIMIT)
      const orders = await Promise.all(ids.map((id) => service.query(id).catch(() => undefined)))
      return Promise.all(orders.filter((o): o is ServiceOrderView => o !== undefined).map(view))
    },
    get: async (orderId) => view(await service.query(orderId)),
    async paymentData(orderId) {
      const { data, total } = await service.paymentData(orderId)
      return { data: data as Record<string, string>, total, label: deps.totalLabel ?? 'Total' }
    },
    async payUrl(orderId, payType) {
      const { payUrl, qrCode, form } = await service.getPayUrl(orderId, payType)
      return { payUrl, qrCode, form }
    },
    confirm: async (orderId, details) => view(await service.confirm(orderId, details)),
    check: async (orderId) => view(await service.check(orderId)),
    cancel: async (orderId) => view(await service.cancel(orderId)),
    async refund(orderId, amount) {
      const order = await service.query(orderId)
      await service.refund(
        orderId,
        amount ?? subtractAmounts(order.amount, order.refunded),
        'refund from the demo shop',
      )
      return view(await service.query(orderId))
    },
    async notify(params, charset) {
      return (await service.notify(params, charset)).ack
    },
    reconcile: () => service.reconcile({ trigger: 'manual' }),
    latestReconciliation: () => service.latestReconciliation(),
  }
}
