import type { BuyerCodeOptions, OrderService } from '@alipay-payment-handler/merchant'
import type { CounterView } from '../common/views.js'
import { ShopError, errorCode } from './problem.js'
import type { ShopLedger } from './shop-ledger.js'

/**
 * The shop's counter: the cashier types the amount and scans the buyer's payment code; the
 * payment runs in the background (payWithBuyerCode polls and cancels by itself) while the counter
 * page asks for its stage. Payments in progress live in memory: a restart leaves their orders to
 * reconciliation, which settles them with the gateway.
 */
export interface CounterDesk {
  start(input: { amount: string; authCode: string }): Promise<CounterView>
  status(orderId: string): CounterView
  cancel(orderId: string): CounterView
}

/** How many finished counter payments stay readable. */
const KEEP_FINISHED = 200

export function createCounterDesk(deps: {
  service: OrderService
  ledger: ShopLedger
  now?: () => number
  /** The polling of payWithBuyerCode; the seed's defaults (5 s, 30 s) unless a test shortens them. */
  polling?: Pick<BuyerCodeOptions, 'pollIntervalMs' | 'timeLimitMs'> | undefined
  log?: ((line: string) => void) | undefined
}): CounterDesk {
  const now = deps.now ?? Date.now
  const views = new Map<string, CounterView>()
  const running = new Map<string, AbortController>()

  function remember(view: CounterView) {
    views.set(view.orderId, view)
    if (views.size > KEEP_FINISHED + running.size) {
      for (const id of views.keys()) {
        if (views.size <= KEEP_FINISHED + running.size) break
        if (!running.has(id)) views.delete(id)
      }
    }
  }

  return {
    async start({ amount, authCode }) {
      if (typeof authCode !== 'string' || !/^\d{10,32}$/.test(authCode.trim()))
        throw new ShopError('AUTH_CODE_INVALID', 'Scan the buyer’s payment code: 10 to 32 digits.')
      const order = await deps.service.create('Counter sale', amount)
      deps.ledger.add(order.orderId, now())
      const controller = new AbortController()
      running.set(order.orderId, controller)
      const view: CounterView = { orderId: order.orderId, amount: order.amount, stage: 'paying' }
      remember(view)
      const update = (patch: Partial<CounterView>) => remember({ ...views.get(order.orderId)!, ...patch })
      void deps.service
        .payWithBuyerCode(order.orderId, authCode.trim(), {
          ...deps.polling,
          signal: controller.signal,
          onProgress: (stage) => update({ stage }),
        })
        .then((result) => {
          if (result.outcome === 'paid') update({ stage: 'paid', tradeNo: result.order.tradeNo ?? undefined })
          else if (result.outcome === 'failed')
            update({ stage: 'failed', subCode: result.subCode ?? result.code, subMsg: result.subMsg })
          else update({ stage: 'cancelled', reason: result.reason })
        })
        .catch((error: unknown) => {
          deps.log?.(`[alipay-shop] counter payment ${order.orderId} failed: ${errorCode(error)}`)
          update({ stage: 'unknown', reason: errorCode(error) })
        })
        .finally(() => running.delete(order.orderId))
      return view
    },

    status(orderId) {
      const view = views.get(orderId)
      if (!view) throw new ShopError('ORDER_NOT_EXIST', 'No such counter payment.')
      return view
    },

    cancel(orderId) {
      const view = views.get(orderId)
      if (!view) throw new ShopError('ORDER_NOT_EXIST', 'No such counter payment.')
      running.get(orderId)?.abort()
      return views.get(orderId)!
    },
  }
}
