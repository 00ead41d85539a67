import type { PolyfillConfig } from '../config.js'
import { isAlipayIdentifier } from '../identifiers.js'
import { PaymentMethodChangeEvent, PaymentRequestUpdateEvent } from './events.js'
import { PaymentRequest, configure } from './payment-request.js'
import { PaymentResponse } from './payment-response.js'

function define(name: string, value: unknown): void {
  // Like a WebIDL interface object: writable, configurable, not enumerable.
  Object.defineProperty(window, name, { value, writable: true, configurable: true, enumerable: false })
}

function setToStringTag(target: { prototype: object }, tag: string): void {
  Object.defineProperty(target.prototype, Symbol.toStringTag, { value: tag, configurable: true })
}

/** A class that is also "instanceof" for the native class it stands in front of. */
function coverNative(ours: abstract new (...args: never[]) => object, native: unknown): void {
  if (typeof native !== 'function') return
  Object.defineProperty(ours, Symbol.hasInstance, {
    value: (value: unknown) => Function.prototype[Symbol.hasInstance].call(ours, value) || value instanceof native,
    configurable: true,
  })
}

/**
 * Installs the fallback globals. Where a native PaymentRequest exists without payment handlers
 * (Safari's Apple Pay, Chromium with handlers off), requests that do not name Alipay still go to
 * the native constructor, so other methods keep working.
 */
export function installFallback(config: PolyfillConfig): void {
  configure(config)
  const NativeRequest = window.PaymentRequest as typeof window.PaymentRequest | undefined
  let Exposed: unknown = PaymentRequest
  if (NativeRequest) {
    Exposed = new Proxy(PaymentRequest, {
      construct(target, args: [PaymentMethodData[], PaymentDetailsInit], newTarget) {
        const methods: unknown = args[0]
        const namesAlipay =
          Array.isArray(methods) &&
          methods.some((m: { supportedMethods?: unknown } | null) =>
            isAlipayIdentifier(String(m?.supportedMethods), config.methodUrl),
          )
        return namesAlipay ? Reflect.construct(target, args, newTarget) : Reflect.construct(NativeRequest, args)
      },
    })
    coverNative(PaymentRequest, NativeRequest)
    coverNative(PaymentResponse, window.PaymentResponse)
  }
  setToStringTag(PaymentRequest, 'PaymentRequest')
  setToStringTag(PaymentResponse, 'PaymentResponse')
  setToStringTag(PaymentRequestUpdateEvent, 'PaymentRequestUpdateEvent')
  setToStringTag(PaymentMethodChangeEvent, 'PaymentMethodChangeEvent')
  define('PaymentRequest', Exposed)
  define('PaymentResponse', PaymentResponse)
  // The events stay native where they exist: native requests fire them.
  if (!('PaymentRequestUpdateEvent' in window)) define('PaymentRequestUpdateEvent', PaymentRequestUpdateEvent)
  if (!('PaymentMethodChangeEvent' in window)) define('PaymentMethodChangeEvent', PaymentMethodChangeEvent)
}
