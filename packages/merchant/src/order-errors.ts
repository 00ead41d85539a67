import { SERVER_PREFIX } from '@alipay-payment-handler/server-runtime'

/** Stable codes of order-service failures (named after the order-service API's PayErrorCode). */
export type OrderErrorCode =
  | 'ORDER_NOT_EXIST'
  | 'ORDER_EXISTS'
  | 'ORDER_ID_INVALID'
  | 'SUBJECT_INVALID'
  | 'UNKNOWN_PAY_TYPE'
  | 'AMOUNT_INVALID'
  | 'ORDER_STATE_CONFLICT'
  | 'REFUND_AMOUNT_EXCEEDED'
  | 'REFUND_REFUSED'
  | 'INVALID_SIGNATURE'
  | 'ORDER_MISMATCH'
  | 'AMOUNT_MISMATCH'
  | 'SELLER_MISMATCH'
  | 'PAYMENT_NOT_SUCCESSFUL'
  | 'PAYMENT_NOT_CONFIRMED'
  | 'GATEWAY_ERROR'
  | 'REFUND_CONFLICT'
  | 'NOT_SUPPORTED_BY_GATEWAY'
  | 'AUTH_CODE_INVALID'

/** HTTP status of each code, for the order routes. */
export const ORDER_ERROR_STATUS: Record<OrderErrorCode, 400 | 404 | 409 | 502> = {
  ORDER_NOT_EXIST: 404,
  ORDER_EXISTS: 409,
  ORDER_ID_INVALID: 400,
  SUBJECT_INVALID: 400,
  UNKNOWN_PAY_TYPE: 400,
  AMOUNT_INVALID: 400,
  ORDER_STATE_CONFLICT: 409,
  REFUND_AMOUNT_EXCEEDED: 409,
  REFUND_REFUSED: 409,
  INVALID_SIGNATURE: 400,
  ORDER_MISMATCH: 400,
  AMOUNT_MISMATCH: 400,
  SELLER_MISMATCH: 400,
  PAYMENT_NOT_SUCCESSFUL: 409,
  PAYMENT_NOT_CONFIRMED: 409,
  GATEWAY_ERROR: 502,
  REFUND_CONFLICT: 409,
  NOT_SUPPORTED_BY_GATEWAY: 409,
  AUTH_CODE_INVALID: 400,
}

/** An order-service failure: a stable `code`, structured `details`, one prefix. */
export class OrderError extends Error {
  override name = 'OrderError'
  readonly code: OrderErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: OrderErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(`${SERVER_PREFIX} ${message}`)
    this.code = code
    this.details = details
  }
}
