import {
  ALIPAY_USER_ID,
  OPENAPI_METHODS,
  OPENAPI_PRODUCT_CODES,
  PC_PAY_SERVICE,
  WAP_PAY_SERVICE,
  cleanOpenapiSubject,
  formatBeijingTime,
  relativeMinutesUntil,
  toTimeoutExpress,
  type Params,
  type PaymentMethodSpecificData,
} from '@alipay-payment-handler/protocol'

/** What the server adds to a merchant's order to make it a web cashier request. */
export interface TranslateOptions {
  device: 'pc' | 'wap'
  sellerId: string
  notifyUrl: string
  returnUrl: string
  /**
   * Where the cashier's cancel link leads: mapi `show_url` (required by WAP, optional on PC,
   * mapi-protocol §3.3) and openapi `quit_url` (WAP). The payment app's return page, in quit mode.
   */
  showUrl: string
  /** `it_b_pay` to send (relative form), already converted from an absolute time. */
  itBPay: string | undefined
}

/**
 * Re-targets the spec's APP-pay data onto `create_direct_pay_by_user` (pc) or
 * `alipay.wap.create.direct.pay.by.user` (wap), field by field as mapi-protocol §2.2. The result is
 * unsigned; the gateway client signs it.
 */
export function translateMethodData(data: PaymentMethodSpecificData, options: TranslateOptions): Params {
  const wap = options.device === 'wap'
  const out: Params = {
    service: wap ? WAP_PAY_SERVICE : PC_PAY_SERVICE,
    partner: data.partner,
    // The WAP table takes UTF-8 only; we send UTF-8 for both so one encoding path serves all.
    _input_charset: 'utf-8',
    notify_url: options.notifyUrl,
    return_url: options.returnUrl,
    out_trade_no: data.out_trade_no ?? '',
    subject: data.subject ?? '',
    payment_type: '1',
    total_fee: data.total_fee ?? '',
  }
  const seller = data.seller_id
  if (!seller || ALIPAY_USER_ID.test(seller)) out['seller_id'] = seller || options.sellerId
  // A login (e-mail or phone) travels as seller_email (mapi-protocol §2.2, inferred).
  else out['seller_email'] = seller
  if (data.body) out['body'] = data.body
  if (!wap && data.goods_type) out['goods_type'] = data.goods_type
  if (options.itBPay) out['it_b_pay'] = options.itBPay
  // Both services take it; the PC cashier's cancel link needs it as much as the WAP one.
  out['show_url'] = options.showUrl
  return out
}

/**
 * Re-targets the same spec data onto `alipay.trade.page.pay` (pc) or `alipay.trade.wap.pay`
 * (wap): `total_fee` becomes `total_amount`, `it_b_pay` (already relative) `timeout_express`, the
 * product code follows the device, and the WAP cashier's back link (`quit_url`) is the payment
 * app's return page in quit mode. `notify_url`/`return_url` are common parameters, passed beside biz_content by the caller.
 */
export function translateToOpenapi(
  data: PaymentMethodSpecificData,
  options: TranslateOptions,
): { method: string; biz: Record<string, string> } {
  const wap = options.device === 'wap'
  const biz: Record<string, string> = {
    out_trade_no: data.out_trade_no ?? '',
    total_amount: data.total_fee ?? '',
    // Alipay refuses `/`, `=` and `&` in subject (openapi-protocol §5.1); the session keeps the signed one.
    subject: cleanOpenapiSubject(data.subject ?? ''),
    product_code: wap ? OPENAPI_PRODUCT_CODES.wapPay : OPENAPI_PRODUCT_CODES.pagePay,
  }
  if (data.body) biz['body'] = data.body
  if (!wap && data.goods_type) biz['goods_type'] = data.goods_type
  // openapi wants the unit spelled out (`90m`); mapi takes a bare number as minutes.
  if (options.itBPay) biz['timeout_express'] = toTimeoutExpress(options.itBPay)
  if (wap) biz['quit_url'] = options.showUrl
  // The openapi web pay methods (openapi-protocol §5.1, openapi-protocol §5.2).
  return { method: wap ? OPENAPI_METHODS.wapPay : OPENAPI_METHODS.pagePay, biz }
}

/**
 * Turns an absolute `it_b_pay` deadline into whole minutes from `now`, as the web services take
 * only relative forms (mapi-protocol §2.2). Undefined when less than a minute is left. Protocol's rule,
 * kept under this name for the package's callers.
 */
export const minutesUntil: (deadline: Date, now: Date) => string | undefined = relativeMinutesUntil

/** A timestamp for logs and answers, Beijing time like the gateway's. */
export const beijing = (ms: number) => formatBeijingTime(new Date(ms))
