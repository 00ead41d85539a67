import {
  amountsEqual,
  compareAmounts,
  checkPayRequest,
  encodeForm,
  formatBeijingTime,
  fromFen,
  itBPayDeadline,
  normalizeAmount,
  parseItBPay,
  subtractAmounts,
  addAmounts,
  buildRefundResults,
  toFen,
  type GatewayErrorCode,
  type Params,
  type RefundDetail,
  type RefundResult,
} from '@alipay-payment-handler/protocol'
import type { Clock } from './clock.js'
import type { PartnerProfile, ResolvedConfig, TestBuyer } from './config.js'
import { newCashierToken, newReturnNotifyId, newTradeNo, notifyIdKey } from './ids.js'
import type { Notifier } from './notifier.js'
import { isOpenapiTrade, type OpenapiMessages, type RefundNote } from './openapi-messages.js'
import type { TimedWork } from './scheduler.js'
import type { GatewaySigner } from './signer.js'
import type { SandboxStore, Trade } from './store.js'

/** Default refund period: 90 days, before scaling (mapi-protocol §11.1 leaves it unspecified). */
const DEFAULT_REFUND_WINDOW_SECONDS = 90 * 86_400

/** Why the cashier refused to pay; each is shown as the real cashier would. */
export type PayRefusal = 'bad-login' | 'not-payable' | 'wrong-buyer' | 'buyer-seller-equal' | 'insufficient'

export type PayOutcome = { kind: 'paid'; trade: Trade } | { kind: 'refused'; reason: PayRefusal; trade: Trade }

/** Codes the sandbox emits beyond protocol's GATEWAY_ERROR_CODES (mapi-protocol §13). */
export type SandboxErrorCode = GatewayErrorCode | 'SELLER_INFO_NOT_EXIST'

/** A gateway error code plus the parameter that caused it. */
export interface Refusal {
  code: SandboxErrorCode
  field: string
}

const ms = (date: number | null) => (date === null ? undefined : formatBeijingTime(new Date(date)))

/** Drops undefined and empty values, so optional fields are simply absent. */
function compact(params: Record<string, string | null | undefined>): Params {
  const out: Params = {}
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') out[key] = value
  return out
}

/**
 * The trade lifecycle: create or resume on a pay request, pay, close, expire (it_b_pay), finish
 * (end of the refund period), refund. Sends the notifies each change calls for.
 */
export class TradeBook implements TimedWork {
  constructor(
    private readonly deps: {
      store: SandboxStore
      clock: Clock
      config: ResolvedConfig
      signer: GatewaySigner
      notifier: Notifier
      /** Asks the scheduler to re-check deadlines (a new it_b_pay or refund period). */
      wake: () => void
      /** Notifications and returns of trades opened through the openapi mode. */
      openapi?: OpenapiMessages | undefined
    },
  ) {}

  /** The configured profile of a partner. */
  partner(id: string | undefined): PartnerProfile | undefined {
    return this.deps.config.partners.find((p) => p.partner === id)
  }

  #scaled(seconds: number): number {
    return seconds * 1000 * this.deps.config.timeScale
  }

  /** Validates a signed pay request and creates its trade, or resumes the unpaid one with the same out_trade_no. */
  openPayRequest(params: Params, partner: PartnerProfile): { trade: Trade } | { refusal: Refusal } {
    const refusal = checkPayRequest(params)
    if (refusal) return { refusal }
    const has = (key: string) => (params[key] ?? '') !== ''
    if (has('it_b_pay') && partner.itBPay === false)
      return { refusal: { code: 'SELF_TIMEOUT_NOT_SUPPORT', field: 'it_b_pay' } }
    // Seller precedence: seller_id, then seller_account_name, then seller_email (mapi-protocol §3.2).
    let sellerId = partner.partner
    if (has('seller_id')) {
      sellerId = params['seller_id']!
      if (sellerId !== partner.partner && !(partner.sellerIds ?? []).includes(sellerId))
        return { refusal: { code: 'SELLER_NOT_IN_SPECIFIED_SELLERS', field: 'seller_id' } }
    } else {
      const account = params['seller_account_name'] || params['seller_email'] || ''
      if (account.toLowerCase() !== (partner.sellerEmail ?? '').toLowerCase())
        return {
          refusal: {
            code: 'SELLER_NOT_EXIST',
            field: has('seller_account_name') ? 'seller_account_name' : 'seller_email',
          },
        }
    }
    // Buyer precedence: buyer_id, then buyer_account_name, then buyer_email.
    const wantedBuyer = params['buyer_id'] || params['buyer_account_name'] || params['buyer_email'] || null
    if (wantedBuyer !== null) {
      const buyer = this.#findBuyer(wantedBuyer)
      if (!buyer) return { refusal: { code: 'BUYER_NOT_EXIST', field: 'buyer_id' } }
      if (buyer.userId === sellerId) return { refusal: { code: 'BUYER_SELLER_EQUAL', field: 'buyer_id' } }
    }
    const totalFee = has('total_fee')
      ? normalizeAmount(params['total_fee']!)
      : fromFen(toFen(params['price']!) * BigInt(params['quantity']!))
    const fingerprint = JSON.stringify(
      ['subject', 'body', 'price', 'quantity', 'payment_type', 'extra_common_param', 'goods_type'].map(
        (key) => params[key] ?? '',
      ),
    )
    const { store, clock } = this.deps
    const now = clock.now()
    const latest = {
      service: params['service']!,
      charset: params['_input_charset']!.toLowerCase(),
      signType: params['sign_type']!,
      notifyUrl: params['notify_url'] || null,
      returnUrl: params['return_url'] || null,
      showUrl: params['show_url'] || null,
      modifiedAt: now,
    }
    const existing = store.tradeByOutTradeNo(partner.partner, params['out_trade_no']!)
    if (existing) {
      const trade = this.refresh(existing)
      if (trade.status !== 'WAIT_BUYER_PAY') return { refusal: { code: 'OUT_TRADE_NO_EXIST', field: 'out_trade_no' } }
      if (!amountsEqual(trade.totalFee, totalFee))
        return { refusal: { code: 'TRADE_TOTALFEE_NOT_MATCH', field: 'total_fee' } }
      if (trade.sellerId !== sellerId) return { refusal: { code: 'TRADE_SELLER_NOT_MATCH', field: 'seller_id' } }
      if (trade.wantedBuyer !== wantedBuyer) return { refusal: { code: 'TRADE_BUYER_NOT_MATCH', field: 'buyer_id' } }
      if (trade.fingerprint !== fingerprint) return { refusal: { code: 'TRADE_DATA_NOT_MATCH', field: 'out_trade_no' } }
      // Resumed: the latest request decides where the return and the notify go, and how they are signed.
      store.updateTrade(trade.tradeNo, latest)
      return { trade: { ...trade, ...latest } }
    }
    const itBPay = has('it_b_pay') ? parseItBPay(params['it_b_pay']!) : undefined
    const expiresAt = itBPay
      ? now + (itBPayDeadline(itBPay, new Date(now)).getTime() - now) * this.deps.config.timeScale
      : null
    const trade: Trade = {
      tradeNo: newTradeNo(now),
      partner: partner.partner,
      outTradeNo: params['out_trade_no']!,
      status: 'WAIT_BUYER_PAY',
      subject: params['subject']!,
      body: params['body'] || null,
      totalFee,
      price: has('price') ? params['price']! : totalFee,
      quantity: has('quantity') ? params['quantity']! : '1',
      sellerId,
      sellerEmail: partner.sellerEmail ?? sellerId,
      wantedBuyer,
      buyerId: null,
      buyerEmail: null,
      extraCommonParam: params['extra_common_param'] || null,
      itBPay: params['it_b_pay'] || null,
      fingerprint,
      cashierToken: newCashierToken(),
      expiresAt,
      finishAt: null,
      createdAt: now,
      paidAt: null,
      closedAt: null,
      refundedFee: '0.00',
      refundStatus: null,
      refundedAt: null,
      returnTarget: null,
      businessScene: null,
      visibleAt: now,
      ...latest,
    }
    store.insertTrade(trade)
    this.deps.wake()
    return { trade }
  }

  #findBuyer(who: string): TestBuyer | undefined {
    return this.deps.config.buyers.find((b) => b.userId === who || b.login.toLowerCase() === who.toLowerCase())
  }

  /** Applies deadlines that passed (lazily, before any read that matters), and returns the current trade. */
  refresh(trade: Trade): Trade {
    const now = this.deps.clock.now()
    if (trade.status === 'WAIT_BUYER_PAY' && trade.expiresAt !== null && trade.expiresAt <= now) this.#expire(trade)
    else if (trade.status === 'TRADE_SUCCESS' && trade.finishAt !== null && trade.finishAt <= now) this.#finish(trade)
    return this.deps.store.tradeByNo(trade.tradeNo) ?? trade
  }

  runDue(): void {
    const { expired, finished } = this.deps.store.tradesDueBy(this.deps.clock.now())
    for (const trade of expired) this.#expire(trade)
    for (const trade of finished) this.#finish(trade)
  }

  nextDue(): number | undefined {
    return this.deps.store.nextTradeDeadline()
  }

  // it_b_pay timeout: TRADE_CLOSED, not notified by default (mapi-protocol §6, observed).
  #expire(trade: Trade): void {
    const at = trade.expiresAt ?? this.deps.clock.now()
    this.deps.store.updateTrade(trade.tradeNo, { status: 'TRADE_CLOSED', closedAt: at, modifiedAt: at })
    // openapi: WAP notifies TRADE_CLOSED by default (openapi-protocol §6.3); the product table decides.
    if (isOpenapiTrade(trade) && trade.visibleAt !== null) this.notifyStatus(this.deps.store.tradeByNo(trade.tradeNo)!)
  }

  // End of the refund period: TRADE_SUCCESS → TRADE_FINISHED, notified (mapi-protocol §11.1).
  #finish(trade: Trade): void {
    const at = trade.finishAt ?? this.deps.clock.now()
    this.deps.store.updateTrade(trade.tradeNo, { status: 'TRADE_FINISHED', modifiedAt: at })
    this.notifyStatus(this.deps.store.tradeByNo(trade.tradeNo)!)
  }

  /** Checks a buyer's login and pays the trade from their balance. */
  async pay(
    token: string,
    login: string,
    password: string,
    scene: 'cashier' | 'qrpay',
  ): Promise<PayOutcome | undefined> {
    const { store, clock, config } = this.deps
    const found = store.tradeByCashierToken(token)
    if (!found) return undefined
    const trade = this.refresh(found)
    const buyer = config.buyers.find((b) => b.login.toLowerCase() === login.trim().toLowerCase())
    if (!buyer || buyer.password !== password) return { kind: 'refused', reason: 'bad-login', trade }
    if (trade.status !== 'WAIT_BUYER_PAY') return { kind: 'refused', reason: 'not-payable', trade }
    if (trade.wantedBuyer !== null && this.#findBuyer(trade.wantedBuyer) !== buyer)
      return { kind: 'refused', reason: 'wrong-buyer', trade }
    if (buyer.userId === trade.sellerId) return { kind: 'refused', reason: 'buyer-seller-equal', trade }
    const partner = this.partner(trade.partner)
    const paid = store.transaction(() => {
      const balance = store.balance(buyer.userId, buyer.balance)
      if (compareAmounts(balance, trade.totalFee) < 0) return false
      const now = clock.now()
      const openapi = isOpenapiTrade(trade)
      // openapi has no automatic refund period: a trigger finishes the trade (openapi-protocol §10.4).
      const refundable = openapi || partner?.refundable !== false
      const window = openapi ? null : now + this.#scaled(partner?.refundWindowSeconds ?? DEFAULT_REFUND_WINDOW_SECONDS)
      store.setBalance(buyer.userId, subtractAmounts(balance, trade.totalFee))
      store.updateTrade(trade.tradeNo, {
        status: refundable ? 'TRADE_SUCCESS' : 'TRADE_FINISHED',
        buyerId: buyer.userId,
        buyerEmail: buyer.login,
        paidAt: now,
        modifiedAt: now,
        finishAt: refundable ? window : null,
        businessScene: scene === 'qrpay' ? 'qrpay' : null,
        // openapi page and WAP trades come to exist at the payer's login, which the cashier's pay form is.
        visibleAt: trade.visibleAt ?? now,
      })
      return true
    })
    if (!paid) return { kind: 'refused', reason: 'insufficient', trade }
    let current = store.tradeByNo(trade.tradeNo)!
    this.notifyStatus(current)
    if (current.returnUrl) {
      const target =
        isOpenapiTrade(current) && this.deps.openapi
          ? await this.deps.openapi.returnTarget(current)
          : await this.#returnTarget(current)
      store.updateTrade(current.tradeNo, { returnTarget: target })
      current = store.tradeByNo(trade.tradeNo)!
    }
    this.deps.wake()
    return { kind: 'paid', trade: current }
  }

  /** The trade's buyer balance as the cashier shows it. */
  balanceOf(buyer: TestBuyer): string {
    return this.deps.store.balance(buyer.userId, buyer.balance)
  }

  /** The signed return URL (mapi-protocol §5.1); its notify_id verifies for about a minute. */
  async #returnTarget(trade: Trade): Promise<string> {
    const { clock, config, store, signer } = this.deps
    const now = clock.now()
    const notifyId = newReturnNotifyId()
    store.insertReturnId(
      notifyIdKey(notifyId),
      trade.partner,
      trade.tradeNo,
      now + config.returnNotifyIdLifetimeSeconds * 1000,
    )
    const params = compact({
      is_success: 'T',
      exterface: trade.service,
      notify_id: notifyId,
      notify_time: formatBeijingTime(new Date(now)),
      notify_type: 'trade_status_sync',
      out_trade_no: trade.outTradeNo,
      payment_type: '1',
      seller_id: trade.sellerId,
      seller_email: trade.sellerEmail,
      buyer_id: trade.buyerId,
      buyer_email: trade.buyerEmail,
      subject: trade.subject,
      body: trade.body,
      total_fee: trade.totalFee,
      trade_no: trade.tradeNo,
      trade_status: trade.status,
      extra_common_param: trade.extraCommonParam,
    })
    const signed = await signer.sign(params, this.partner(trade.partner), trade.signType, trade.charset, 'return')
    return `${trade.returnUrl}?${encodeForm(signed, trade.charset)}`
  }

  /** The trade_status_sync parameters of a trade (mapi-protocol §6.1), without notify_id/time and sign. */
  notifyParams(trade: Trade): Params {
    return compact({
      notify_type: 'trade_status_sync',
      out_trade_no: trade.outTradeNo,
      subject: trade.subject,
      payment_type: '1',
      trade_no: trade.tradeNo,
      trade_status: trade.status,
      gmt_create: ms(trade.createdAt),
      gmt_payment: ms(trade.paidAt),
      gmt_close: ms(trade.closedAt),
      refund_status: trade.refundStatus,
      gmt_refund: ms(trade.refundedAt),
      seller_email: trade.sellerEmail,
      buyer_email: trade.buyerEmail,
      seller_id: trade.sellerId,
      buyer_id: trade.buyerId,
      price: trade.price,
      total_fee: trade.totalFee,
      quantity: trade.quantity,
      body: trade.body,
      discount: '0.00',
      is_total_fee_adjust: 'N',
      use_coupon: 'N',
      extra_common_param: trade.extraCommonParam,
      business_scene: trade.businessScene,
    })
  }

  /** Sends the trade_status_sync a status change calls for, if the trade has a notify_url. */
  notifyStatus(trade: Trade, refund?: RefundNote): void {
    if (isOpenapiTrade(trade)) return this.deps.openapi?.notify(trade, refund)
    if (!trade.notifyUrl) return
    this.deps.notifier.enqueue({
      partner: trade.partner,
      tradeNo: trade.tradeNo,
      kind: 'trade_status_sync',
      url: trade.notifyUrl,
      charset: trade.charset,
      signType: trade.signType,
      params: this.notifyParams(trade),
    })
  }

  /** The `<trade>` children of a single_trade_query reply (mapi-protocol §8). */
  queryFields(trade: Trade): Params {
    const paid = trade.paidAt !== null
    return compact({
      body: trade.body,
      buyer_email: trade.buyerEmail,
      buyer_id: trade.buyerId,
      discount: '0.00',
      flag_trade_locked: '0',
      gmt_close: ms(trade.closedAt),
      gmt_create: ms(trade.createdAt),
      gmt_last_modified_time: ms(trade.modifiedAt),
      gmt_payment: ms(trade.paidAt),
      gmt_refund: ms(trade.refundedAt),
      is_total_fee_adjust: 'F',
      operator_role: 'B',
      out_trade_no: trade.outTradeNo,
      payment_type: '1',
      price: trade.price,
      quantity: trade.quantity,
      refund_status: trade.refundStatus,
      seller_email: trade.sellerEmail,
      seller_id: trade.sellerId,
      subject: trade.subject,
      to_buyer_fee: trade.refundedFee,
      to_seller_fee: paid ? subtractAmounts(trade.totalFee, trade.refundedFee) : '0.00',
      total_fee: trade.totalFee,
      trade_no: trade.tradeNo,
      trade_status: trade.status,
      use_coupon: 'F',
    })
  }

  /** Finds a trade of this partner by trade_no (preferred) or by the merchant's order number. */
  find(partner: string, tradeNo: string | undefined, outTradeNo: string | undefined): Trade | undefined {
    const { store } = this.deps
    const trade = tradeNo
      ? store.tradeByNo(tradeNo)
      : outTradeNo
        ? store.tradeByOutTradeNo(partner, outTradeNo)
        : undefined
    if (!trade || trade.partner !== partner) return undefined
    return this.refresh(trade)
  }

  /** close_trade: only an unpaid trade closes (mapi-protocol §9). */
  close(trade: Trade): 'closed' | 'not-closable' {
    if (trade.status !== 'WAIT_BUYER_PAY') return 'not-closable'
    const now = this.deps.clock.now()
    this.deps.store.updateTrade(trade.tradeNo, { status: 'TRADE_CLOSED', closedAt: now, modifiedAt: now })
    return 'closed'
  }

  /**
   * Runs one refund batch: refunds each entry that is allowed, records the batch, and sends
   * batch_refund_notify (plus trade_status_sync per refunded trade unless the profile turns it off).
   */
  refundBatch(input: {
    partner: PartnerProfile
    batchNo: string
    detailData: string
    entries: readonly RefundDetail[]
    notifyUrl: string | undefined
    charset: string
    signType: string
  }): void {
    const { store, clock } = this.deps
    const refunded: Trade[] = []
    const results: RefundResult[] = []
    store.transaction(() => {
      const now = clock.now()
      for (const entry of input.entries) {
        const found = store.tradeByNo(entry.tradeNo)
        const result =
          found && found.partner !== input.partner.partner
            ? 'NOT_THIS_PARTNERS_TRADE'
            : this.#refundOne(found ? this.refresh(found) : undefined, entry, now)
        results.push({ tradeNo: entry.tradeNo, amount: entry.amount, result })
        if (result === 'SUCCESS') refunded.push(store.tradeByNo(entry.tradeNo)!)
      }
      store.insertRefundBatch({
        partner: input.partner.partner,
        batchNo: input.batchNo,
        createdAt: now,
        detailData: input.detailData,
        resultDetails: buildRefundResults(results),
        successNum: refunded.length,
      })
    })
    if (input.notifyUrl) {
      this.deps.notifier.enqueue({
        partner: input.partner.partner,
        tradeNo: input.entries[0]?.tradeNo ?? null,
        kind: 'batch_refund_notify',
        url: input.notifyUrl,
        charset: input.charset,
        signType: input.signType,
        params: {
          notify_type: 'batch_refund_notify',
          batch_no: input.batchNo,
          success_num: String(refunded.length),
          result_details: buildRefundResults(results),
        },
      })
    }
    if (input.partner.refundTradeStatusSync !== false) for (const trade of refunded) this.notifyStatus(trade)
  }

  #refundOne(trade: Trade | undefined, entry: RefundDetail, now: number): string {
    if (!trade) return 'TRADE_NOT_EXIST'
    if (trade.status !== 'TRADE_SUCCESS') return 'TRADE_STATUS_ERROR'
    const refundable = subtractAmounts(trade.totalFee, trade.refundedFee)
    if (compareAmounts(entry.amount, refundable) > 0) return 'REFUND_AMOUNT_NOT_VALID'
    this.applyRefund(trade, entry.amount, now)
    return 'SUCCESS'
  }

  /**
   * Moves `amount` back to the buyer: adds it to refundedFee, sets REFUND_SUCCESS, and closes the
   * trade on a full refund (mapi-protocol §11.1, openapi-protocol §8.1). The caller has checked status and amount.
   */
  applyRefund(trade: Trade, amount: string, now: number): Trade {
    const refundedFee = addAmounts(trade.refundedFee, amount)
    const full = amountsEqual(refundedFee, trade.totalFee)
    this.deps.store.updateTrade(trade.tradeNo, {
      refundedFee,
      refundStatus: 'REFUND_SUCCESS',
      refundedAt: now,
      modifiedAt: now,
      ...(full ? { status: 'TRADE_CLOSED' as const, closedAt: now, finishAt: null } : {}),
    })
    // The money goes back to the buyer's balance.
    const buyer = this.deps.config.buyers.find((b) => b.userId === trade.buyerId)
    if (buyer)
      this.deps.store.setBalance(buyer.userId, addAmounts(this.deps.store.balance(buyer.userId, buyer.balance), amount))
    return this.deps.store.tradeByNo(trade.tradeNo)!
  }

  /**
   * A refund made in the merchant console (sandbox trigger): no batch and no batch_refund_notify,
   * but a trade_status_sync with refund_status and gmt_refund, as mapi-protocol §10.3 says console refunds do.
   */
  consoleRefund(
    trade: Trade,
    amount: string,
  ): { trade: Trade } | { error: 'TRADE_STATUS_ERROR' | 'REFUND_AMOUNT_NOT_VALID' } {
    const current = this.refresh(trade)
    if (current.status !== 'TRADE_SUCCESS') return { error: 'TRADE_STATUS_ERROR' }
    if (toFen(amount) < 1n || compareAmounts(amount, subtractAmounts(current.totalFee, current.refundedFee)) > 0)
      return { error: 'REFUND_AMOUNT_NOT_VALID' }
    const refunded = this.deps.store.transaction(() => this.applyRefund(current, amount, this.deps.clock.now()))
    this.notifyStatus(refunded)
    return { trade: refunded }
  }

  /** Ends the refund period now: TRADE_SUCCESS → TRADE_FINISHED, notified like the scheduled end (mapi-protocol §11.1). */
  finishNow(trade: Trade): { trade: Trade } | { error: 'TRADE_STATUS_ERROR' } {
    const current = this.refresh(trade)
    if (current.status !== 'TRADE_SUCCESS') return { error: 'TRADE_STATUS_ERROR' }
    this.deps.store.updateTrade(current.tradeNo, { finishAt: this.deps.clock.now() })
    return { trade: this.refresh(this.deps.store.tradeByNo(current.tradeNo)!) }
  }
}
