/**
 * The data a merchant page passes as `data` for `supportedMethods: "alipay"`, field for field
 * as the Alipay payment method spec's `PaymentMethodSpecificData` dictionary. Unknown members
 * are kept (the index signature), never dropped, because they are part of what was signed.
 */
export interface PaymentMethodSpecificData {
  service: string
  partner: string
  _input_charset: string
  sign_type: string
  sign: string
  notify_url: string
  out_trade_no?: string
  subject?: string
  payment_type?: string
  seller_id?: string
  total_fee?: string
  body?: string
  goods_type?: string
  it_b_pay?: string
  [extra: string]: string | undefined
}

/**
 * What `PaymentResponse.details` holds: the gateway-signed parameter set copied verbatim, plus
 * `success` (outside the signature, like `sign_type`). Members the dictionary does not list
 * (`is_success`, `exterface`, …) stay, because the gateway's `sign` covers them (mapi-protocol §15).
 */
export interface AlipayPaymentResponse {
  success: 'true' | 'false'
  notify_id: string
  notify_time: string
  notify_type: string
  sign_type: string
  sign: string
  out_trade_no?: string
  subject?: string
  payment_type?: string
  trade_no?: string
  trade_status?: string
  seller_id?: string
  seller_email?: string
  buyer_id?: string
  buyer_email?: string
  total_fee?: string
  quantity?: string
  price?: string
  body?: string
  gmt_create?: string
  gmt_payment?: string
  refund_status?: string
  gmt_refund?: string
  [extra: string]: string | undefined
}

/** The members the spec marks `required` in each dictionary. */
export const REQUIRED_METHOD_DATA_FIELDS = [
  'service',
  'partner',
  '_input_charset',
  'sign_type',
  'sign',
  'notify_url',
] as const
export const REQUIRED_RESPONSE_FIELDS = [
  'success',
  'notify_id',
  'notify_time',
  'notify_type',
  'sign_type',
  'sign',
] as const

/** Parameters common to every signed mapi request (mapi-protocol §3.1). */
export interface MapiCommonParams {
  service: string
  partner: string
  _input_charset: string
  sign_type: string
  sign: string
}

/** `create_direct_pay_by_user` and `alipay.wap.create.direct.pay.by.user` requests (mapi-protocol §3.2, mapi-protocol §3.3). */
export interface MapiPayRequest extends MapiCommonParams {
  out_trade_no: string
  subject: string
  payment_type: string
  total_fee: string
  seller_id?: string
  seller_email?: string
  notify_url?: string
  return_url?: string
  body?: string
  show_url?: string
  it_b_pay?: string
  goods_type?: string
  extra_common_param?: string
  qr_pay_mode?: string
  app_pay?: string
  [extra: string]: string | undefined
}

/** The synchronous return to `return_url` (mapi-protocol §5.1). */
export interface MapiReturnParams {
  is_success: string
  sign_type: string
  sign: string
  notify_id: string
  notify_time: string
  notify_type: string
  out_trade_no: string
  subject?: string
  payment_type?: string
  exterface?: string
  trade_no: string
  trade_status: string
  seller_id?: string
  seller_email?: string
  buyer_id?: string
  buyer_email?: string
  total_fee: string
  body?: string
  extra_common_param?: string
  [extra: string]: string | undefined
}

/** The asynchronous `trade_status_sync` notify (mapi-protocol §6.1). */
export interface MapiNotifyParams {
  notify_time: string
  notify_type: string
  notify_id: string
  sign_type: string
  sign: string
  out_trade_no: string
  subject?: string
  payment_type?: string
  trade_no: string
  trade_status: string
  gmt_create?: string
  gmt_payment?: string
  gmt_close?: string
  refund_status?: string
  gmt_refund?: string
  seller_email?: string
  buyer_email?: string
  seller_id?: string
  buyer_id?: string
  price?: string
  total_fee: string
  quantity?: string
  body?: string
  discount?: string
  is_total_fee_adjust?: string
  use_coupon?: string
  extra_common_param?: string
  business_scene?: string
  [extra: string]: string | undefined
}

/** The asynchronous `batch_refund_notify` (mapi-protocol §10.3). */
export interface MapiRefundNotifyParams {
  notify_time: string
  notify_type: string
  notify_id: string
  sign_type: string
  sign: string
  batch_no: string
  success_num: string
  result_details: string
  [extra: string]: string | undefined
}
