import type { CheckoutRequest } from '@alipay-payment-handler/protocol'
import type { SessionsApi, SessionState } from '../common/sessions-api.js'
import type { ClientMessageLike, PaymentRequestEventLike } from './events.js'
import type { HandlerSession } from './session-store.js'

/**
 * Fakes for the worker's unit tests: events, clients and the sessions API, with no browser.
 * Kept beside the logic they fake so a change of shape fails to compile in both places.
 */

export const ORIGIN = 'http://localhost:4200'
export const METHOD = 'http://localhost:4200/pay'
export const MERCHANT = 'http://localhost:4100'

/** Valid PaymentMethodSpecificData (the signature is not checked by the worker). */
export function methodData(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    service: 'mobile.securitypay.pay',
    partner: '2088101122136241',
    _input_charset: 'utf-8',
    sign_type: 'MD5',
    sign: '0123456789abcdef0123456789abcdef',
    notify_url: 'http://localhost:4100/notify',
    out_trade_no: 'D20250101120000123456',
    subject: 'Green tea',
    payment_type: '1',
    seller_id: '2088101122136241',
    total_fee: '0.01',
    it_b_pay: '30m',
    ...overrides,
  }
}

/** A PaymentRequestEvent as Chromium 156 delivers it, recording `openWindow` calls. */
export function fakePaymentRequestEvent(
  options: {
    id?: string
    data?: unknown
    methods?: { supportedMethods: string; data?: unknown }[]
    openWindow?: (url: string) => Promise<unknown>
  } = {},
): PaymentRequestEventLike & { opened: string[] } {
  const opened: string[] = []
  return {
    paymentRequestId: options.id ?? 'req-1',
    paymentRequestOrigin: `${MERCHANT}/`,
    topOrigin: `${MERCHANT}/`,
    methodData: options.methods ?? [{ supportedMethods: METHOD, data: options.data ?? methodData() }],
    total: { currency: 'CNY', value: '0.01' },
    opened,
    openWindow(url) {
      opened.push(url)
      return options.openWindow ? options.openWindow(url) : Promise.resolve({ id: 'window-1' })
    },
  }
}

/** A message from a page, with a reply port that records what the worker answers. */
export function fakeMessage(
  data: unknown,
  options: { origin?: string; withPort?: boolean } = {},
): ClientMessageLike & { replies: unknown[]; sourceReplies: unknown[] } {
  const replies: unknown[] = []
  const sourceReplies: unknown[] = []
  return {
    data,
    origin: options.origin ?? ORIGIN,
    ports: options.withPort === false ? [] : [{ postMessage: (message: unknown) => void replies.push(message) }],
    source: { postMessage: (message: unknown) => void sourceReplies.push(message) },
    replies,
    sourceReplies,
  }
}

/** A stored session as the worker writes it after `paymentrequest`. */
export function storedSession(overrides: Partial<HandlerSession> = {}): HandlerSession {
  const request: CheckoutRequest = {
    paymentRequestId: 'req-1',
    merchantOrigin: MERCHANT,
    methodData: methodData() as CheckoutRequest['methodData'],
    total: { currency: 'CNY', value: '0.01' },
  }
  return {
    paymentRequestId: 'req-1',
    methodName: METHOD,
    request,
    state: 'open',
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  }
}

/** What the signing server says session `id` was created for: by default, storedSession()'s request. */
export function serverSession(id: string): Omit<SessionState, 'status'> {
  return {
    sessionId: id,
    paymentRequestId: 'req-1',
    merchantOrigin: MERCHANT,
    outTradeNo: 'D20250101120000123456',
    totalFee: '0.01',
  }
}

/** A sessions API whose answers the test sets, recording every call. */
export function fakeApi(answers: { get?: () => Promise<SessionState>; abort?: () => Promise<SessionState> } = {}) {
  const calls: string[] = []
  const api: Pick<SessionsApi, 'get' | 'abort'> = {
    async get(id) {
      calls.push(`get ${id}`)
      if (!answers.get) throw new Error('no answer set')
      // The server names what the session is for; by default, the stored session's own request.
      return { ...serverSession(id), ...(await answers.get()) }
    },
    abort(id) {
      calls.push(`abort ${id}`)
      return answers.abort ? answers.abort() : Promise.resolve({ status: 'aborted' })
    },
  }
  return { api, calls }
}
