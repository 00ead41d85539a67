import { ALIPAY_METHOD, isCancelledDetails } from '@alipay-payment-handler/protocol'
import type { PolyfillConfig } from './config.js'
import { domError } from './fallback/dom-errors.js'
import { identifierKey } from './identifiers.js'
import { processPaymentMethods, toMethodDataSequence, type MethodData } from './method-data.js'

/** Replaces `"alipay"` with the URL identifier, dropping a URL entry that the merchant listed as well. */
export function mapMethodData(methodData: readonly MethodData[], methodUrl: string): MethodData[] {
  // Listing both would trip the native duplicate check once "alipay" becomes the URL.
  const listsAlipay = methodData.some((m) => m.supportedMethods === ALIPAY_METHOD)
  return methodData
    .filter(
      (m) => !listsAlipay || m.supportedMethods === ALIPAY_METHOD || identifierKey(m.supportedMethods) !== methodUrl,
    )
    .map((m) => (m.supportedMethods === ALIPAY_METHOD ? { ...m, supportedMethods: methodUrl } : m))
}

/** Maps `"alipay"` modifiers too; anything it does not understand goes to the native constructor untouched. */
export function mapDetails(details: unknown, methodUrl: string): unknown {
  const modifiers = (details as { modifiers?: unknown } | null | undefined)?.modifiers
  if (!Array.isArray(modifiers)) return details
  const mapped = modifiers.map((m: { supportedMethods?: unknown } | null) =>
    m?.supportedMethods === ALIPAY_METHOD ? { ...m, supportedMethods: methodUrl } : m,
  )
  return { ...(details as object), modifiers: mapped }
}

/** Presents what the handler answered with our URL identifier as `"alipay"`: own properties, since the prototype's are read-only. */
export function presentAsAlipay<T extends { methodName: string }>(target: T, methodUrl: string): T {
  if (target.methodName !== methodUrl) return target
  Object.defineProperty(target, 'methodName', { value: ALIPAY_METHOD, configurable: true })
  const toJSON = (target as { toJSON?: () => object }).toJSON
  if (typeof toJSON === 'function') {
    Object.defineProperty(target, 'toJSON', {
      value: () => ({ ...toJSON.call(target), methodName: ALIPAY_METHOD }),
      configurable: true,
      writable: true,
    })
  }
  return target
}

/**
 * Native mode: subclasses the browser's PaymentRequest so `"alipay"` reaches the payment app's
 * handler, which Chromium only finds by URL identifier. `instanceof`, events, abort(),
 * canMakePayment(), retry() and complete() stay the browser's own.
 */
export function installNative(config: PolyfillConfig): void {
  const Native = window.PaymentRequest
  const { methodUrl } = config
  const aliased = new WeakSet<object>()

  class PaymentRequest extends Native {
    constructor(methodData: PaymentMethodData[], details: PaymentDetailsInit, ...rest: unknown[]) {
      const list = toMethodDataSequence(methodData)
      // The browser runs its checks first (argument conversion, identifiers, amounts); then ours,
      // so bad Alipay data is the same TypeError here as in the fallback.
      super(mapMethodData(list, methodUrl), mapDetails(details, methodUrl) as PaymentDetailsInit, ...(rest as []))
      processPaymentMethods(list, methodUrl)
      if (list.some((m) => m.supportedMethods === ALIPAY_METHOD)) {
        aliased.add(this)
        // Registered in the constructor, so it runs before any listener of the merchant's.
        this.addEventListener('paymentmethodchange', (event) =>
          presentAsAlipay(event as PaymentMethodChangeEvent, methodUrl),
        )
      }
    }

    override show(...args: [detailsPromise?: Promise<PaymentDetailsUpdate>]): Promise<PaymentResponse> {
      return super.show(...args).then((response) => {
        // The handler resolves a cancellation instead of rejecting (a rejected respondWith leaves
        // show() pending in Chromium): give the merchant the error the fallback gives.
        if (response.methodName === methodUrl && isCancelledDetails(response.details)) {
          const { reason, code, failure } = response.details
          void response.complete('unknown').catch(() => {})
          // The message starts with the stable reason (alipayFailureReason reads it back).
          throw domError(
            reason === 'failed' ? 'OperationError' : 'AbortError',
            `${failure ?? (reason === 'failed' ? 'internal' : 'cancelled')}: payment ${reason} ${code ?? ''}`,
          )
        }
        return aliased.has(this) ? presentAsAlipay(response, methodUrl) : response
      })
    }
  }

  Object.defineProperty(window, 'PaymentRequest', { value: PaymentRequest, writable: true, configurable: true })
}
