/** The openapi methods the kit speaks, by their wire names (openapi-protocol §5). */
export const OPENAPI_METHODS = {
  pagePay: 'alipay.trade.page.pay',
  wapPay: 'alipay.trade.wap.pay',
  precreate: 'alipay.trade.precreate',
  query: 'alipay.trade.query',
  close: 'alipay.trade.close',
  cancel: 'alipay.trade.cancel',
  refund: 'alipay.trade.refund',
  refundQuery: 'alipay.trade.fastpay.refund.query',
  /** The statement's download URL (openapi-protocol §15). */
  billDownloadUrl: 'alipay.data.dataservice.bill.downloadurl.query',
  /** Alipay's public key certificate of a given SN, for certificate mode (openapi-protocol §3.6). */
  certDownload: 'alipay.open.app.alipaycert.download',
} as const
export type OpenapiMethod = (typeof OPENAPI_METHODS)[keyof typeof OPENAPI_METHODS]

/** The `product_code` of each pay method, under the same key as its method (openapi-protocol §5.1–5.3). */
export const OPENAPI_PRODUCT_CODES = {
  pagePay: 'FAST_INSTANT_TRADE_PAY',
  wapPay: 'QUICK_WAP_WAY',
  precreate: 'FACE_TO_FACE_PAYMENT',
} as const
export type OpenapiProductCode = (typeof OPENAPI_PRODUCT_CODES)[keyof typeof OPENAPI_PRODUCT_CODES]

/**
 * Face-to-face and APP methods (openapi-protocol §14.1–14.3), kept apart from the web methods above:
 * `alipay.trade.pay` (the cashier scans the buyer's code), `alipay.trade.create` (an order paid
 * elsewhere, e.g. JSAPI) and `alipay.trade.app.pay` (never POSTed: an order string for the app SDK).
 */
export const OPENAPI_COUNTER_METHODS = {
  pay: 'alipay.trade.pay',
  create: 'alipay.trade.create',
  appPay: 'alipay.trade.app.pay',
} as const
export type OpenapiCounterMethod = (typeof OPENAPI_COUNTER_METHODS)[keyof typeof OPENAPI_COUNTER_METHODS]

/** Product codes and scenes of the counter methods (openapi-protocol §14.1, openapi-protocol §14.3). */
export const OPENAPI_COUNTER_PRODUCT_CODES = {
  pay: 'FACE_TO_FACE_PAYMENT',
  appPay: 'QUICK_MSECURITY_PAY',
} as const
/** `scene` of a barcode payment: the buyer shows a bar or QR code. */
export const BAR_CODE_SCENE = 'bar_code'
