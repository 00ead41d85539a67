/** The payment method identifier of the Alipay payment method spec. */
export const ALIPAY_METHOD = 'alipay'

/** The APP-pay service the spec's data describes; the signing server re-targets it (mapi-protocol §2.1). */
export const APP_PAY_SERVICE = 'mobile.securitypay.pay'
export const PC_PAY_SERVICE = 'create_direct_pay_by_user'
export const WAP_PAY_SERVICE = 'alipay.wap.create.direct.pay.by.user'

/** Every service the kit speaks, by its wire name. */
export const MAPI_SERVICES = {
  appPay: APP_PAY_SERVICE,
  pcPay: PC_PAY_SERVICE,
  wapPay: WAP_PAY_SERVICE,
  query: 'single_trade_query',
  close: 'close_trade',
  notifyVerify: 'notify_verify',
  refund: 'refund_fastpay_by_platform_nopwd',
} as const

/** Trade statuses (mapi-protocol §11.1). */
export const TRADE_STATUSES = [
  'WAIT_BUYER_PAY',
  'TRADE_CLOSED',
  'TRADE_SUCCESS',
  'TRADE_FINISHED',
  'TRADE_PENDING',
] as const
export type TradeStatus = (typeof TRADE_STATUSES)[number]

/** Only these two statuses mean "paid" (mapi-protocol §14.10). */
export function isPaidStatus(status: string | undefined): boolean {
  return status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED'
}

/** Exactly what a notify receiver must answer: seven characters, nothing else (mapi-protocol §6.2). */
export const NOTIFY_ACK = 'success'

/**
 * Gaps between the 8 deliveries of one notify, in seconds: the domestic schedule
 * (4m, 10m, 10m, 1h, 2h, 6h, 15h; mapi-protocol §6.2). A sandbox may scale it.
 */
export const NOTIFY_RETRY_GAPS_SECONDS: readonly number[] = [240, 600, 600, 3600, 7200, 21600, 54000]

/** A return's notify_id verifies for about a minute (mapi-protocol §5.1). */
export const RETURN_NOTIFY_ID_LIFETIME_SECONDS = 60

/** Gateway error codes (mapi-protocol §13), spelled as Alipay spells them, misspellings included. */
export const GATEWAY_ERROR_CODES = [
  'ILLEGAL_SIGN',
  'ILLEGAL_SIGN_TYPE',
  'ILLEGAL_CHARSET',
  'ILLEGAL_ENCODING',
  'ILLEGAL_SERVICE',
  'ILLEGAL_PARTNER',
  'ILLEGAL_PARTNER_EXTERFACE',
  'ILLEGAL_SECURITY_PROFILE',
  'HAS_NO_PUBLICKEY',
  'ILLEGAL_ARGUMENT',
  'PARAMTER_IS_NULL',
  'HAS_NO_PRIVILEGE',
  'ILLEGAL_CLIENT_IP',
  'SYSTEM_ERROR',
  'TRADE_NOT_EXIST',
  'OUT_TRADE_NO_EXIST',
  'TRADE_DATA_NOT_MATCH',
  'TRADE_TOTALFEE_NOT_MATCH',
  'TRADE_BUYER_NOT_MATCH',
  'TRADE_SELLER_NOT_MATCH',
  'TRADE_NOT_ALLOWED_PAY',
  'TRADE_STATUS_NOT_AVAILD',
  'SELLER_NOT_IN_SPECIFIED_SELLERS',
  'SELLER_NOT_EXIST',
  'BUYER_NOT_EXIST',
  'BUYER_SELLER_EQUAL',
  'ILLEGAL_PAYMENT_TYPE',
  'TOTAL_FEE_LESSEQUAL_ZERO',
  'TOTAL_FEE_OUT_OF_RANGE',
  'ILLEGAL_FEE_PARAM',
  'SELF_TIMEOUT_NOT_SUPPORT',
  'TRADE_ENGINE_ERROR',
  'BATCH_NO_FORMAT_ERROR',
  'DUPLICATE_BATCH_NO',
  'REFUND_DATE_ERROR',
  'BATCH_NUM_ERROR',
  'BATCH_NUM_EXCEED_LIMIT',
  'BATCH_NUM_NOT_EQUAL_TOTAL',
  'DETAIL_DATA_FORMAT_ERROR',
  'SINGLE_DETAIL_DATA_EXCEED_LIMIT',
  'DUBL_TRADE_NO_IN_SAME_BATCH',
  'NOT_THIS_PARTNERS_TRADE',
  'TRADE_STATUS_ERROR',
  'TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND',
  'REFUND_AMOUNT_NOT_VALID',
  'TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH',
] as const
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number]
