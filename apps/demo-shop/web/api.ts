import type {
  OrderView,
  NotifyView,
  ProductView,
  PaymentDataView,
  PayUrlView,
  ReconciliationView,
  ShopConfig,
  CounterView,
} from '../common/views.js'

/**
 * The shop pages' only door to the merchant backend. Every failure becomes a ShopApiError with
 * a stable `code` (the problem's type, or NETWORK when the server could not be reached), so the
 * pages pick their wording from one catalogue (messages.ts) instead of parsing text.
 */

export type {
  OrderView,
  NotifyView,
  ProductView,
  PaymentDataView,
  PayUrlView,
  ReconciliationView,
  ShopConfig,
  CounterView,
}

/** A failed call: `code` is stable, `detail` is the server's own words when it sent any. */
export class ShopApiError extends Error {
  override name = 'ShopApiError'
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail?: string,
  ) {
    super(`${code}${detail ? `: ${detail}` : ''}`)
  }
}

/** problem+json types look like https://…/problems/<code>; the last segment is the code. */
function codeOf(problem: { type?: unknown; code?: unknown }, status: number): string {
  if (typeof problem.code === 'string') return problem.code
  if (typeof problem.type === 'string' && problem.type !== 'about:blank') {
    return problem.type.split('/').pop() ?? `HTTP_${status}`
  }
  return `HTTP_${status}`
}

/** An order's view token from a checkout link (`?view=`); the shop's cookie carries it otherwise. */
let orderViewToken: string | undefined

/** Sends `token` with every call from now on (the backend then keeps it in the order's cookie). */
export function useOrderViewToken(token: string | undefined): void {
  orderViewToken = token || undefined
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(orderViewToken && path.startsWith('/api/orders/') ? { 'order-view-token': orderViewToken } : {}),
      },
      body: body === undefined ? null : JSON.stringify(body),
    })
  } catch {
    throw new ShopApiError('NETWORK', 0)
  }
  const text = await response.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!response.ok) {
    const problem = (json ?? {}) as { type?: unknown; code?: unknown; detail?: unknown }
    const detail = typeof problem.detail === 'string' ? problem.detail : undefined
    // A proxy or a half-started server answers 502/503 without problem+json: say "server down".
    const code = json === undefined && response.status >= 500 ? 'NETWORK' : codeOf(problem, response.status)
    throw new ShopApiError(code, response.status, detail)
  }
  return json as T
}

/** The calls the pages make, one per backend route. */
export const api = {
  config: () => call<ShopConfig>('GET', '/config.json'),
  products: () => call<ProductView[]>('GET', '/api/products'),
  checkout: (items: { productId: string; quantity: number }[]) => call<OrderView>('POST', '/api/checkout', { items }),
  orders: () => call<OrderView[]>('GET', '/api/orders'),
  order: (id: string) => call<OrderView>('GET', `/api/orders/${encodeURIComponent(id)}`),
  paymentData: (id: string) => call<PaymentDataView>('POST', `/api/orders/${encodeURIComponent(id)}/payment-data`),
  confirm: (id: string, details: unknown) =>
    call<OrderView>('POST', `/api/orders/${encodeURIComponent(id)}/confirm`, { details }),
  payUrl: (id: string, payType: 'PRE_PAY' | 'WAP_PAY') =>
    call<PayUrlView>('POST', `/api/orders/${encodeURIComponent(id)}/pay-url`, { payType }),
  check: (id: string) => call<OrderView>('POST', `/api/orders/${encodeURIComponent(id)}/check`),
  cancel: (id: string) => call<OrderView>('POST', `/api/orders/${encodeURIComponent(id)}/cancel`),
  refund: (id: string, amount?: string) =>
    call<OrderView>('POST', `/api/orders/${encodeURIComponent(id)}/refund`, amount ? { amount } : {}),
  reconciliation: () => call<ReconciliationView | null>('GET', '/api/reconciliation'),
  reconcile: () => call<ReconciliationView>('POST', '/api/reconciliation', {}),
  counterPay: (amount: string, authCode: string) =>
    call<CounterView>('POST', '/api/counter/payments', { amount, authCode }),
  counterStatus: (id: string) => call<CounterView>('GET', `/api/counter/payments/${encodeURIComponent(id)}`),
  counterCancel: (id: string) => call<CounterView>('POST', `/api/counter/payments/${encodeURIComponent(id)}/cancel`),
  /** Sets the operator's HttpOnly cookie when `token` is the one the shop printed at start. */
  operatorLogin: (token: string) => call<{ operator: true }>('POST', '/api/operator/login', { token }),
}
