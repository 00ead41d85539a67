import { DIAGNOSTIC_PREFIX } from '@alipay-payment-handler/protocol'

/** The DOMException names the Payment Request spec uses. */
export type DOMErrorName = 'AbortError' | 'InvalidStateError' | 'NotSupportedError' | 'OperationError' | 'SecurityError'

/** A DOMException with the exact spec name and the kit's prefix on the message. */
export function domError(name: DOMErrorName, message: string): DOMException {
  return new DOMException(`${DIAGNOSTIC_PREFIX} ${message}`, name)
}

/** `a promise rejected with` a DOMException, for the early returns of show(), abort() and friends. */
export function rejectWith(name: DOMErrorName, message: string): Promise<never> {
  return Promise.reject(domError(name, message))
}
