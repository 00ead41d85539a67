import { randomInt } from 'node:crypto'
import {
  encodeForm,
  formatBeijingTime,
  OPENAPI_METHODS,
  signOpenapiNotify,
  type Params,
  type TradeStatus,
} from '@alipay-payment-handler/protocol'
import { gatewaySigningKey } from './cert-mode.js'
import type { Clock } from './clock.js'
import type { OpenapiApp, OpenapiProduct, ResolvedConfig } from './config.js'
import type { Notifier } from './notifier.js'
import type { Trade } from './store.js'

/** Statuses notified per product unless the app says otherwise (openapi-protocol §6.3). */
const DEFAULT_NOTIFY_STATUSES: Record<OpenapiProduct, readonly TradeStatus[]> = {
  page: ['TRADE_SUCCESS'],
  wap: ['TRADE_SUCCESS', 'TRADE_CLOSED', 'TRADE_FINISHED'],
  precreate: ['TRADE_SUCCESS'],
}

/** Whether a trade was opened through the openapi mode (its `service` is an openapi method). */
export function isOpenapiTrade(trade: Pick<Trade, 'service'>): boolean {
  return trade.service.startsWith('alipay.trade.')
}

/** The product of an openapi trade, from the method that opened it. */
export function productOf(trade: Pick<Trade, 'service'>): OpenapiProduct {
  if (trade.service === OPENAPI_METHODS.pagePay) return 'page'
  if (trade.service === OPENAPI_METHODS.wapPay) return 'wap'
  return 'precreate'
}

/** A notify_id: 34 digits (openapi-protocol §6.1, observed). */
function newDigitsNotifyId(): string {
  let out = String(1 + randomInt(9))
  for (let i = 1; i < 34; i++) out += String(randomInt(10))
  return out
}

/** A buyer login as Alipay shows it to merchants: `buy***@demo.example`, `159****5620`. */
export function maskLogin(login: string | null): string | undefined {
  if (!login) return undefined
  const at = login.indexOf('@')
  if (at > 0) return `${login.slice(0, Math.min(3, at))}***${login.slice(at)}`
  return login.length > 7 ? `${login.slice(0, 3)}****${login.slice(-4)}` : `${login.slice(0, 1)}***`
}

const time = (ms: number | null) => (ms === null ? undefined : formatBeijingTime(new Date(ms)))

function compact(params: Record<string, string | null | undefined>): Params {
  const out: Params = {}
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') out[key] = value
  return out
}

/** Refund facts a notification carries (openapi-protocol §8.2). */
export interface RefundNote {
  outRequestNo: string
}

/**
 * Builds and signs what the openapi gateway sends about a trade: the `trade_status_sync`
 * notification (signed once; retries resend it unchanged) and the return URL (openapi-protocol §6, openapi-protocol §7).
 */
export class OpenapiMessages {
  constructor(
    private readonly deps: {
      config: ResolvedConfig
      clock: Clock
      notifier: Notifier
    },
  ) {}

  /** The app that owns a trade. */
  app(trade: Pick<Trade, 'partner'>): OpenapiApp | undefined {
    return this.deps.config.apps.find((a) => a.appId === trade.partner)
  }

  #signType(app: OpenapiApp | undefined) {
    return app?.signType ?? 'RSA2'
  }

  /** Sends the notification of the trade's current status, if its product notifies it and it has a notify_url. */
  notify(trade: Trade, refund?: RefundNote): void {
    const app = this.app(trade)
    if (!trade.notifyUrl || !app) return
    const statuses = app.notifyStatuses?.[productOf(trade)] ?? DEFAULT_NOTIFY_STATUSES[productOf(trade)]
    if (!statuses.includes(trade.status)) return
    const notifyId = newDigitsNotifyId()
    const paid = trade.paidAt !== null
    const params = compact({
      notify_time: time(this.deps.clock.now()),
      notify_type: 'trade_status_sync',
      notify_id: notifyId,
      app_id: app.appId,
      auth_app_id: app.appId,
      // The request's charset: a GBK request gets GBK notifications, labelled so (openapi-protocol §10.4).
      charset: trade.charset,
      version: '1.0',
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      trade_status: trade.status,
      buyer_id: trade.buyerId,
      buyer_logon_id: maskLogin(trade.buyerEmail),
      seller_id: trade.sellerId,
      seller_email: app.sellerEmail,
      total_amount: trade.totalFee,
      receipt_amount: paid ? trade.totalFee : undefined,
      invoice_amount: paid ? trade.totalFee : undefined,
      buyer_pay_amount: paid ? trade.totalFee : undefined,
      point_amount: paid ? '0.00' : undefined,
      refund_fee: trade.refundedAt !== null ? trade.refundedFee : undefined,
      gmt_refund: refund ? time(trade.refundedAt) : undefined,
      out_biz_no: refund?.outRequestNo,
      subject: trade.subject,
      body: trade.body,
      passback_params: trade.extraCommonParam,
      gmt_create: time(trade.visibleAt ?? trade.createdAt),
      gmt_payment: time(trade.paidAt),
      gmt_close: time(trade.closedAt),
      fund_bill_list: paid ? JSON.stringify([{ amount: trade.totalFee, fundChannel: 'ALIPAYACCOUNT' }]) : undefined,
    })
    const url = trade.notifyUrl
    this.deps.notifier.enqueueAsync(
      signOpenapiNotify(params, gatewaySigningKey(this.deps.config, app), this.#signType(app)).then((signed) => ({
        partner: app.appId,
        tradeNo: trade.tradeNo,
        kind: 'trade_status_sync' as const,
        url,
        charset: trade.charset,
        signType: this.#signType(app),
        params,
        notifyId,
        fixedBody: encodeForm(signed, trade.charset),
      })),
    )
  }

  /** The signed return URL after payment: exactly the fields of openapi-protocol §7, space as `+`. */
  async returnTarget(trade: Trade): Promise<string | null> {
    const app = this.app(trade)
    if (!trade.returnUrl || !app) return null
    const params = compact({
      charset: 'utf-8',
      out_trade_no: trade.outTradeNo,
      method: `${trade.service}.return`,
      total_amount: trade.totalFee,
      trade_no: trade.tradeNo,
      auth_app_id: app.appId,
      version: '1.0',
      app_id: app.appId,
      seller_id: trade.sellerId,
      timestamp: time(this.deps.clock.now()),
    })
    const signed = await signOpenapiNotify(params, gatewaySigningKey(this.deps.config, app), this.#signType(app))
    const query = encodeForm(signed, 'utf-8').replace(/%20/g, '+')
    return `${trade.returnUrl}${trade.returnUrl.includes('?') ? '&' : '?'}${query}`
  }
}
