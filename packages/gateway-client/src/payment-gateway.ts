import type { Params, PaymentMethodSpecificData, StatementRow } from '@alipay-payment-handler/protocol'
import type { StatementRequest } from './openapi-statement.js'
import type { CounterGateway } from './openapi-barcode.js'
import type { TradeLookup, TradeSnapshot } from './trade-snapshot.js'

/** Pay types: the order service's PRE_PAY (QR) and WAP_PAY (mobile form), and their pc/mobile aliases (openapi-protocol §9). */
export const PAY_TYPES = ['PRE_PAY', 'WAP_PAY', 'pc', 'mobile'] as const
export type PayType = (typeof PAY_TYPES)[number]

/** Which trade an order has at the gateway: `tradeNo` wins when known. */
export interface TradeRef {
  orderId: string
  tradeNo?: string | undefined
}

/** What a pay page needs from the order service. */
export interface PayPageInput {
  order: { orderId: string; subject: string; amount: string }
  payType: PayType
  notifyUrl: string
  returnUrl?: string | undefined
  /** mapi show_url / openapi quit_url of the mobile cashier. */
  showUrl?: string | undefined
  /** Relative timeout (`90m`, `2h`, `1c`): mapi it_b_pay, openapi timeout_express. */
  timeout?: string | undefined
}

/** A pay page: the link (QR content for PRE_PAY on openapi) and the form a mobile page submits. */
export interface PayPage {
  payUrl: string
  form: { action: string; method: 'get' | 'post'; fields: Params } | undefined
  /** How the trade was opened; stored on the order, it decides how to cancel it. */
  channel: string
}

/** A refund as the order service asks for it; `refundNo` is identical on every retry of one refund. */
export interface GatewayRefundInput {
  refundNo: string
  orderId: string
  tradeNo: string
  amount: string
  reason: string
  notifyUrl?: string | undefined
}

/**
 * A refund's fate: `success` (money moved, or the gateway confirms it did), `submitted` (accepted,
 * the result comes later), `refused` (final). A retryable failure throws a GatewayError instead.
 */
export type GatewayRefundResult = { state: 'success' | 'submitted' } | { state: 'refused'; error: string }

/** Closing an unpaid trade. "No such trade" counts as closed: nothing can be paid. */
export type CloseResult = { closed: true; action?: 'close' | 'refund' } | { closed: false; error: string }

/** A notify after its signature was checked and its fields mapped. */
export type ParsedNotify =
  | { ok: false; reason: string }
  | {
      ok: true
      kind: 'trade'
      notifyId: string
      notifyType: string
      trade: TradeSnapshot
      /**
       * Whether the signature alone proves the gateway wrote it (RSA2 with the gateway's public key).
       * Otherwise (MD5, RSA) the trade must be confirmed with the gateway before money state moves.
       */
      gatewayProof: boolean
      /** openapi: a refund's TRADE_SUCCESS/TRADE_CLOSED notify names the refund (out_biz_no). */
      refundNo?: string
      /** Signed by the gateway but for another merchant (openapi app_id): recorded, never applied. */
      foreign?: string
    }
  | {
      ok: true
      kind: 'refund'
      notifyId: string
      notifyType: string
      refunds: { refundNo: string; ok: boolean; code?: string | undefined }[]
    }

/** A browser-side payment response after its signature was checked. `paid` is unknown on a bare return. */
export type VerifiedResponse =
  { ok: false; reason: string } | { ok: true; trade: TradeSnapshot; paid: boolean | undefined }

/**
 * One gateway as the order service needs it. Two implementations: mapi (`createMapiGateway`) and
 * openapi (`createOpenapiGateway`); the order service behaves the same on both.
 */
export interface PaymentGateway {
  readonly kind: 'mapi' | 'openapi'
  readonly gatewayUrl: string
  /** The seller account trades must name; undefined when not configured (openapi apps may not know it). */
  readonly sellerId: string | undefined
  payPage(input: PayPageInput): Promise<PayPage>
  /** PaymentMethodSpecificData for the payment handler; absent where the gateway has no such request. */
  paymentData?(input: {
    order: PayPageInput['order']
    notifyUrl: string
    /** Signed as an absolute `it_b_pay`: the payment app opens no session for the data after it. */
    expiresAt?: Date | undefined
  }): Promise<PaymentMethodSpecificData>
  /**
   * Signs a merchant → payment app message (the session revoke of a cancelled order) with the key
   * and sign type of this merchant's method data, `partner` set to the one the method data names;
   * absent where `paymentData` is.
   */
  signForPaymentApp?(params: Params): Promise<Params>
  queryTrade(ref: TradeRef): Promise<TradeLookup>
  closeTrade(ref: TradeRef & { channel?: string | undefined }): Promise<CloseResult>
  refund(input: GatewayRefundInput): Promise<GatewayRefundResult>
  /** Whether a refund went through: `success`, or `unknown` (not yet, or never). */
  refundStatus(input: {
    refundNo: string
    orderId: string
    tradeNo?: string | undefined
  }): Promise<'success' | 'unknown'>
  /** Verifies and maps a notify; never throws on a bad signature. */
  /** Verifies a notify; `charset` is the one its body was decoded in (protocol's decodeNotify). */
  parseNotify(params: Params, charset?: string): Promise<ParsedNotify>
  /**
   * Asks the gateway whether a notify is fresh (mapi notify_verify). `undefined` where the
   * gateway has no such call (openapi: the signature is the proof, openapi-protocol §0.1).
   */
  confirmNotify(notifyId: string): Promise<boolean | undefined>
  verifyPaymentResponse(details: Record<string, unknown>): Promise<VerifiedResponse>
  /**
   * The rows of a day's or month's statement, streamed (openapi
   * `alipay.data.dataservice.bill.downloadurl.query`); absent on gateways without one (mapi).
   */
  statementRows?(request: StatementRequest): AsyncIterable<StatementRow>
  /** Face-to-face barcode, order creation and APP pay; openapi only (openapi-protocol §14.1–14.3). */
  readonly counter?: CounterGateway
}
