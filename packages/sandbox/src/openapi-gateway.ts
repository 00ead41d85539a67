import type { Context } from 'hono'
import {
  amountsEqual,
  compareAmounts,
  formatBeijingTime,
  isAmountString,
  isOpenapiSubject,
  normalizeAmount,
  normalizeCharset,
  OPENAPI_COUNTER_METHODS,
  OPENAPI_COUNTER_PRODUCT_CODES,
  OPENAPI_METHODS,
  OPENAPI_PRODUCT_CODES,
  parseBeijingTime,
  parseRelativeTimeout,
  relativeTimeoutMs,
  subtractAmounts,
  toFen,
} from '@alipay-payment-handler/protocol'
import type { OpenapiApp } from './config.js'
import type { SandboxDeps } from './deps.js'
import { newCashierToken, newTradeNo } from './ids.js'
import { CounterDesk } from './openapi-barcode.js'
import { maskLogin } from './openapi-messages.js'
import { failure, openapiReply, type OpenapiFailure } from './openapi-reply.js'
import { isOpenapiRefusal, OPENAPI_PAGE_METHODS, readOpenapiRequest, type OpenapiRequest } from './openapi-request.js'
import { OpenapiRefunds } from './openapi-refunds.js'
import { statementUrl } from './statements.js'
import { alipayCertDownload } from './cert-mode.js'
import { noteParams, noteSignCheck } from './request-log.js'
import type { Trade } from './store.js'
import { pageHeaders } from './views/layout.js'
import { openapiErrorPage } from './views/pages.js'

type Outcome = { failure: OpenapiFailure } | { fields: Record<string, unknown> }

const invalid = (subMsg: string) => ({ failure: failure('40004', 'ACQ.INVALID_PARAMETER', subMsg) })
const business = (subCode: string, subMsg: string) => ({ failure: failure('40004', subCode, subMsg) })
const time = (ms: number | null) => (ms === null ? undefined : formatBeijingTime(new Date(ms)))

/** A biz_content string field (numbers are accepted for amounts, openapi-protocol §3.5). */
function str(biz: Record<string, unknown>, key: string): string | undefined {
  const value = biz[key]
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/**
 * `timeout_express` in ms: `90m`, `2h`, `15d` or `1c` (until midnight); undefined if malformed.
 * Read loosely, as the sandbox always has: up to five digits, no 1m–15d range [sandbox].
 */
export function timeoutMs(text: string, now: number): number | undefined {
  const timeout = parseRelativeTimeout(text, { loose: true })
  return timeout && relativeTimeoutMs(timeout, now)
}

const PRODUCT_CODES: Partial<Record<string, string>> = {
  [OPENAPI_METHODS.pagePay]: OPENAPI_PRODUCT_CODES.pagePay,
  [OPENAPI_METHODS.wapPay]: OPENAPI_PRODUCT_CODES.wapPay,
  [OPENAPI_METHODS.precreate]: OPENAPI_PRODUCT_CODES.precreate,
  // Face-to-face and APP (openapi-protocol §14.1–14.3); create takes any product code [sandbox].
  [OPENAPI_COUNTER_METHODS.pay]: OPENAPI_COUNTER_PRODUCT_CODES.pay,
  [OPENAPI_COUNTER_METHODS.appPay]: OPENAPI_COUNTER_PRODUCT_CODES.appPay,
}

/**
 * The openapi gateway (openapi-protocol §10): common checks, then one handler per method. Page methods
 * answer with the cashier or an HTML error page; the others with signed JSON.
 */
export async function handleOpenapi(c: Context, deps: SandboxDeps): Promise<Response> {
  const request = await readOpenapiRequest(c, deps)
  if (isOpenapiRefusal(request)) {
    const { subCode } = request.failure
    noteSignCheck(c, subCode === 'isv.invalid-signature' ? `failed (${subCode})` : `not checked (${subCode})`)
    if (OPENAPI_PAGE_METHODS.includes(request.method ?? '')) return htmlFailure(c, request.failure)
    return openapiReply(deps, request.target, { failure: request.failure })
  }
  noteParams(c, request.params)
  noteSignCheck(c, 'ok')
  const target = { method: request.method, app: request.app, charset: request.charset }
  const book = new OpenapiTradeBook(deps, request.app)
  switch (request.method) {
    // Face-to-face counter methods live in openapi-barcode.ts (openapi-protocol §14.1, openapi-protocol §14.2).
    case OPENAPI_COUNTER_METHODS.pay:
      return openapiReply(deps, target, await new CounterDesk(deps, book).pay(request, c))
    case OPENAPI_COUNTER_METHODS.create:
      return openapiReply(deps, target, new CounterDesk(deps, book).create(request, c))
    case OPENAPI_COUNTER_METHODS.appPay:
      // readOpenapiRequest never lets it through: its order string goes to the app page.
      return openapiReply(deps, undefined, { failure: failure('40002', 'isv.invalid-method', '不存在的方法名') })
    case OPENAPI_METHODS.pagePay:
    case OPENAPI_METHODS.wapPay: {
      const opened = book.open(request, c)
      if ('failure' in opened) return htmlFailure(c, opened.failure)
      return c.redirect(`/cashier/${opened.trade.cashierToken}`, 302)
    }
    case OPENAPI_METHODS.precreate:
      return openapiReply(deps, target, book.precreate(request, c))
    case OPENAPI_METHODS.query:
      await new CounterDesk(deps, book).beforeQuery(request)
      return openapiReply(deps, target, book.query(request))
    case OPENAPI_METHODS.close:
      return openapiReply(deps, target, book.close(request))
    case OPENAPI_METHODS.cancel:
      return openapiReply(deps, target, book.cancel(request))
    case OPENAPI_METHODS.refund:
      return openapiReply(deps, target, book.refund(request.biz))
    case OPENAPI_METHODS.refundQuery:
      return openapiReply(deps, target, book.refundQuery(request))
    case OPENAPI_METHODS.billDownloadUrl:
      return openapiReply(deps, target, statementUrl(deps, request, c))
    case OPENAPI_METHODS.certDownload:
      return openapiReply(deps, target, alipayCertDownload(deps.config, request.biz))
  }
}

function htmlFailure(c: Context, reason: OpenapiFailure): Response | Promise<Response> {
  for (const [k, v] of Object.entries(pageHeaders())) c.header(k, v)
  return c.html(openapiErrorPage(reason.code, reason.subCode, reason.subMsg))
}

/** The openapi trade operations of one app. */
export class OpenapiTradeBook {
  readonly #refunds: OpenapiRefunds

  constructor(
    private readonly deps: SandboxDeps,
    private readonly app: OpenapiApp,
  ) {
    this.#refunds = new OpenapiRefunds(deps.store)
  }

  /** Checks the order fields shared by page.pay, wap.pay and precreate (openapi-protocol §5.1–5.3). */
  #orderFields(request: OpenapiRequest): { failure: OpenapiFailure } | { order: Record<string, string | undefined> } {
    const { biz } = request
    const outTradeNo = str(biz, 'out_trade_no')
    const amount = str(biz, 'total_amount')
    const subject = str(biz, 'subject')
    if (!outTradeNo || !/^[A-Za-z0-9_-]{1,64}$/.test(outTradeNo)) return invalid('out_trade_no无效')
    if (!amount || !isAmountString(amount) || toFen(amount) < 1n || toFen(amount) > 10_000_000_000n)
      return invalid('total_amount无效')
    if (!subject || !isOpenapiSubject(subject)) return invalid('subject无效')
    const productCode = str(biz, 'product_code')
    const expected = PRODUCT_CODES[request.method]
    if (
      request.method === OPENAPI_METHODS.pagePay
        ? productCode !== expected
        : expected !== undefined && productCode && productCode !== expected
    )
      return invalid('product_code无效')
    const timeExpire = str(biz, 'time_expire')
    const timeoutExpress = str(biz, 'timeout_express')
    if (timeExpire && !parseBeijingTime(timeExpire)) return invalid('time_expire无效')
    if (!timeExpire && timeoutExpress && timeoutMs(timeoutExpress, 0) === undefined)
      return invalid('timeout_express无效')
    const body = str(biz, 'body')
    if (body && body.length > 128) return invalid('body无效')
    return {
      order: {
        outTradeNo,
        amount: normalizeAmount(amount),
        subject,
        body,
        passback: str(biz, 'passback_params'),
        timeExpire,
        timeoutExpress,
        quitUrl: str(biz, 'quit_url'),
      },
    }
  }

  /** When an unpaid trade expires, counted from `from` (openapi-protocol §10.4). */
  #deadline(order: Record<string, string | undefined>, from: number): number | null {
    if (order['timeExpire']) return parseBeijingTime(order['timeExpire'])!.getTime()
    if (!order['timeoutExpress']) return null
    return from + timeoutMs(order['timeoutExpress'], from)! * this.deps.config.timeScale
  }

  /** The order-field checks alone, and whether the out_trade_no can still be paid; undefined when fine. */
  check(request: OpenapiRequest): { failure: OpenapiFailure } | undefined {
    const checked = this.#orderFields(request)
    if ('failure' in checked) return checked
    const existing = this.deps.store.tradeByOutTradeNo(this.app.appId, checked.order['outTradeNo']!)
    if (existing && this.deps.trades.refresh(existing).paidAt !== null)
      return business('ACQ.TRADE_HAS_SUCCESS', '交易已被支付')
    return undefined
  }

  /** Creates the (not yet visible) trade, or resumes the unpaid one with the same content. */
  #create(request: OpenapiRequest): { failure: OpenapiFailure } | { trade: Trade } {
    const checked = this.#orderFields(request)
    if ('failure' in checked) return checked
    const { order } = checked
    const { store, clock } = this.deps
    const now = clock.now()
    const fingerprint = JSON.stringify([request.method, order['amount'], order['subject'], order['body'] ?? ''])
    const latest = {
      notifyUrl: request.params['notify_url'] || null,
      returnUrl: request.params['return_url'] || null,
      showUrl: order['quitUrl'] ?? null,
      modifiedAt: now,
    }
    const existing = store.tradeByOutTradeNo(this.app.appId, order['outTradeNo']!)
    if (existing) {
      const trade = this.deps.trades.refresh(existing)
      if (trade.paidAt !== null) return business('ACQ.TRADE_HAS_SUCCESS', '交易已被支付')
      if (trade.status === 'TRADE_CLOSED') return business('ACQ.TRADE_HAS_CLOSE', '交易已经关闭')
      if (trade.fingerprint !== fingerprint) return business('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改')
      store.updateTrade(trade.tradeNo, latest)
      return { trade: { ...trade, ...latest } }
    }
    const trade: Trade = {
      tradeNo: newTradeNo(now),
      partner: this.app.appId,
      outTradeNo: order['outTradeNo']!,
      service: request.method,
      status: 'WAIT_BUYER_PAY',
      // Notifications go out in the request's charset (openapi-protocol §10.4).
      charset: normalizeCharset(request.params['charset']) ?? 'utf-8',
      signType: this.app.signType ?? 'RSA2',
      subject: order['subject']!,
      body: order['body'] ?? null,
      totalFee: order['amount']!,
      price: order['amount']!,
      quantity: '1',
      sellerId: this.app.sellerId,
      sellerEmail: this.app.sellerEmail ?? this.app.sellerId,
      wantedBuyer: null,
      buyerId: null,
      buyerEmail: null,
      extraCommonParam: order['passback'] ?? null,
      itBPay: order['timeExpire'] ?? order['timeoutExpress'] ?? null,
      fingerprint,
      cashierToken: newCashierToken(),
      // page.pay counts from the first request; WAP from the login (i.e. payment); QR from the scan.
      expiresAt: request.method === OPENAPI_METHODS.pagePay ? this.#deadline(order, now) : null,
      finishAt: null,
      createdAt: now,
      paidAt: null,
      closedAt: null,
      refundedFee: '0.00',
      refundStatus: null,
      refundedAt: null,
      returnTarget: null,
      businessScene: null,
      visibleAt: null,
      ...latest,
    }
    store.insertTrade(trade)
    this.deps.scheduler.wake()
    return { trade }
  }

  /** page.pay / wap.pay: a trade behind the cashier, created at the payer's login. */
  open(request: OpenapiRequest, _c: Context): { failure: OpenapiFailure } | { trade: Trade } {
    return this.#create(request)
  }

  /** precreate: a QR code pointing at the sandbox's scan page. */
  precreate(request: OpenapiRequest, c: Context): Outcome {
    const created = this.#create(request)
    if ('failure' in created) return created
    const origin = new URL(c.req.url).origin
    return { fields: { out_trade_no: created.trade.outTradeNo, qr_code: `${origin}/qr/${created.trade.cashierToken}` } }
  }

  /** The app's trade named by trade_no (preferred) or out_trade_no, visible or not. */
  #find(biz: Record<string, unknown>): Trade | undefined {
    const tradeNo = str(biz, 'trade_no')
    const outTradeNo = str(biz, 'out_trade_no')
    const { store } = this.deps
    const trade = tradeNo
      ? store.tradeByNo(tradeNo)
      : outTradeNo
        ? store.tradeByOutTradeNo(this.app.appId, outTradeNo)
        : undefined
    if (!trade || trade.partner !== this.app.appId) return undefined
    return this.deps.trades.refresh(trade)
  }

  #visible(biz: Record<string, unknown>): { failure: OpenapiFailure } | { trade: Trade } {
    if (!str(biz, 'trade_no') && !str(biz, 'out_trade_no')) return invalid('out_trade_no和trade_no不能同时为空')
    const trade = this.#find(biz)
    if (!trade || trade.visibleAt === null) return business('ACQ.TRADE_NOT_EXIST', '交易不存在')
    return { trade }
  }

  query(request: OpenapiRequest): Outcome {
    const found = this.#visible(request.biz)
    if ('failure' in found) return found
    const t = found.trade
    const paid = t.paidAt !== null
    return {
      fields: {
        trade_no: t.tradeNo,
        out_trade_no: t.outTradeNo,
        buyer_logon_id: maskLogin(t.buyerEmail),
        trade_status: t.status,
        total_amount: t.totalFee,
        buyer_pay_amount: paid ? t.totalFee : '0.00',
        point_amount: '0.00',
        invoice_amount: paid ? t.totalFee : '0.00',
        receipt_amount: paid ? t.totalFee : '0.00',
        ...(paid ? { send_pay_date: time(t.paidAt) } : {}),
        ...(paid
          ? { fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount: t.totalFee, real_amount: t.totalFee }] }
          : {}),
        ...(t.buyerId ? { buyer_user_id: t.buyerId } : {}),
      },
    }
  }

  close(request: OpenapiRequest): Outcome {
    const found = this.#visible(request.biz)
    if ('failure' in found) return found
    if (this.deps.trades.close(found.trade) === 'not-closable')
      return business('ACQ.TRADE_STATUS_ERROR', '交易状态不合法')
    this.deps.trades.notifyStatus(this.deps.store.tradeByNo(found.trade.tradeNo)!)
    return { fields: { trade_no: found.trade.tradeNo, out_trade_no: found.trade.outTradeNo } }
  }

  /** cancel: unpaid → closed (even an unscanned precreate); paid → refunded in full (openapi-protocol §5.6). */
  cancel(request: OpenapiRequest): Outcome {
    const { biz } = request
    if (!str(biz, 'trade_no') && !str(biz, 'out_trade_no')) return invalid('out_trade_no和trade_no不能同时为空')
    const trade = this.#find(biz)
    const unscannedQr = trade?.service === OPENAPI_METHODS.precreate && trade.visibleAt === null
    if (!trade || (trade.visibleAt === null && !unscannedQr)) return business('ACQ.TRADE_NOT_EXIST', '交易不存在')
    const reply = (action: string) => ({
      fields: {
        ...(unscannedQr ? {} : { trade_no: trade.tradeNo }),
        out_trade_no: trade.outTradeNo,
        retry_flag: 'N',
        action,
      },
    })
    if (trade.status === 'TRADE_FINISHED') return business('ACQ.TRADE_HAS_FINISHED', '交易已完结')
    if (trade.status === 'WAIT_BUYER_PAY') {
      this.deps.trades.close(trade)
      if (!unscannedQr) this.deps.trades.notifyStatus(this.deps.store.tradeByNo(trade.tradeNo)!)
      return reply('close')
    }
    if (trade.status === 'TRADE_CLOSED') return reply(trade.paidAt !== null ? 'refund' : 'close')
    const left = subtractAmounts(trade.totalFee, trade.refundedFee)
    const outcome = this.refund({
      trade_no: trade.tradeNo,
      refund_amount: left,
      out_request_no: `CANCEL${trade.tradeNo}`,
    })
    return 'failure' in outcome ? outcome : reply('refund')
  }

  /** refund: out_request_no idempotency, fund_change, cumulative refund_fee (openapi-protocol §8.2). */
  refund(biz: Record<string, unknown>): Outcome {
    const amount = str(biz, 'refund_amount')
    if (!amount || !isAmountString(amount) || toFen(amount) < 1n) return invalid('refund_amount无效')
    if (!str(biz, 'trade_no') && !str(biz, 'out_trade_no')) return invalid('out_trade_no和trade_no不能同时为空')
    const trade = this.#find(biz)
    if (!trade || trade.visibleAt === null) return business('ACQ.TRADE_NOT_EXIST', '交易不存在')
    const value = normalizeAmount(amount)
    const requestNo = str(biz, 'out_request_no') ?? trade.outTradeNo
    const reason = str(biz, 'refund_reason') ?? null
    const previous = this.#refunds.get(trade.tradeNo, requestNo)
    const reply = (t: Trade, fundChange: 'Y' | 'N', at: number) => ({
      fields: {
        trade_no: t.tradeNo,
        out_trade_no: t.outTradeNo,
        buyer_logon_id: maskLogin(t.buyerEmail),
        fund_change: fundChange,
        refund_fee: t.refundedFee,
        gmt_refund_pay: time(at),
        ...(t.buyerId ? { buyer_user_id: t.buyerId } : {}),
        send_back_fee: fundChange === 'Y' ? value : '0.00',
      },
    })
    if (previous) {
      if (!amountsEqual(previous.amount, value))
        return business('ACQ.DISCORDANT_REPEAT_REQUEST', '退款请求号对应的退款金额与之前不一致')
      return reply(trade, 'N', previous.createdAt)
    }
    if (trade.status === 'TRADE_FINISHED') return business('ACQ.TRADE_HAS_FINISHED', '交易已完结')
    if (trade.status !== 'TRADE_SUCCESS') return business('ACQ.TRADE_STATUS_ERROR', '交易状态不合法')
    const left = subtractAmounts(trade.totalFee, trade.refundedFee)
    if (!str(biz, 'out_request_no') && !amountsEqual(value, trade.totalFee))
      return business('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限')
    if (compareAmounts(value, left) > 0) return business('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限')
    const now = this.deps.clock.now()
    const refunded = this.deps.store.transaction(() => {
      const after = this.deps.trades.applyRefund(trade, value, now)
      this.#refunds.insert({ tradeNo: trade.tradeNo, outRequestNo: requestNo, amount: value, reason, createdAt: now })
      return after
    })
    this.deps.trades.notifyStatus(refunded, { outRequestNo: requestNo })
    return reply(refunded, 'Y', now)
  }

  refundQuery(request: OpenapiRequest): Outcome {
    const requestNo = str(request.biz, 'out_request_no')
    if (!requestNo) return invalid('out_request_no不能为空')
    const found = this.#visible(request.biz)
    if ('failure' in found) return found
    const t = found.trade
    const refund = this.#refunds.get(t.tradeNo, requestNo)
    if (!refund) return { fields: { trade_no: t.tradeNo, out_trade_no: t.outTradeNo } }
    return {
      fields: {
        trade_no: t.tradeNo,
        out_trade_no: t.outTradeNo,
        out_request_no: refund.outRequestNo,
        total_amount: t.totalFee,
        refund_amount: refund.amount,
        refund_status: 'REFUND_SUCCESS',
        gmt_refund_pay: time(refund.createdAt),
        ...(refund.reason ? { refund_reason: refund.reason } : {}),
      },
    }
  }
}
