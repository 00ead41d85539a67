import { setTimeout as sleep } from 'node:timers/promises'
import type { Context } from 'hono'
import {
  APP_PAY_SERVICE,
  BAR_CODE_SCENE,
  BUYER_AUTH_CODE,
  OPENAPI_COUNTER_METHODS,
  formatBeijingTime,
  type OpenapiCounterMethod,
} from '@alipay-payment-handler/protocol'
import type { TestBuyer } from './config.js'
import type { SandboxDeps } from './deps.js'
import { maskLogin } from './openapi-messages.js'
import { failure, type OpenapiFailure } from './openapi-reply.js'
import type { OpenapiRequest } from './openapi-request.js'
import type { OpenapiTradeBook } from './openapi-gateway.js'
import type { Trade } from './store.js'

/**
 * The sandbox's face-to-face counter (openapi-protocol §14.1, openapi-protocol §14.2, openapi-protocol §14.4): `alipay.trade.pay` with
 * the buyer's code, whose digits choose what the "buyer" does, and `alipay.trade.create`.
 */

type Outcome = { failure: OpenapiFailure } | { fields: Record<string, unknown> }

/** What a buyer code makes the sandbox do. */
export type BuyerCodeBehaviour =
  | { kind: 'pay' }
  | { kind: 'password'; afterQueries: number | null }
  | { kind: 'fail'; subCode: string; subMsg: string }
  | { kind: 'system-error'; paid: boolean }
  | { kind: 'hang'; paid: boolean }

/** Failures the `2810000000000040NN` codes produce, each a real `alipay.trade.pay` sub-code. */
export const BUYER_CODE_FAILURES: Record<string, { subCode: string; subMsg: string }> = {
  '01': { subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID', subMsg: '支付授权码无效' },
  '02': { subCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH', subMsg: '买家余额不足' },
  '03': { subCode: 'ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR', subMsg: '买家付款日限额超限' },
  '04': { subCode: 'ACQ.TRADE_BUYER_NOT_MATCH', subMsg: '交易买家不匹配' },
}

/** How long a `hang` code holds its reply back: longer than any client timeout worth having. */
const HANG_MS = 20_000

/**
 * The documented buyer codes (README "Buyer codes"). Any other valid code pays at once.
 * - `28100000000000300N`…: waits for the password; paid after N queries (`000`: only by the
 *   inspector's Pay button or the `pay` trigger);
 * - `2810000000000040NN`: fails with the sub-code of BUYER_CODE_FAILURES;
 * - `281000000000002000` / `…2001`: answers 20000 ACQ.SYSTEM_ERROR, the trade unpaid / paid;
 * - `281000000000009000` / `…9001`: holds the reply back (the client times out), unpaid / paid.
 */
export function buyerCodeBehaviour(code: string): BuyerCodeBehaviour {
  if (!BUYER_AUTH_CODE.test(code)) return { kind: 'fail', ...BUYER_CODE_FAILURES['01']! }
  const password = /^281000000000003(\d{3})$/.exec(code)
  if (password) return { kind: 'password', afterQueries: Number(password[1]) || null }
  const failed = /^2810000000000040(\d{2})$/.exec(code)
  if (failed) return { kind: 'fail', ...(BUYER_CODE_FAILURES[failed[1]!] ?? BUYER_CODE_FAILURES['01']!) }
  if (code === '281000000000002000' || code === '281000000000002001')
    return { kind: 'system-error', paid: code.endsWith('1') }
  if (code === '281000000000009000' || code === '281000000000009001') return { kind: 'hang', paid: code.endsWith('1') }
  return { kind: 'pay' }
}

/** One barcode trade's code and how many queries it still waits for. */
interface BarcodeRow {
  tradeNo: string
  authCode: string
  afterQueries: number | null
  queries: number
}

/** One table handle per sandbox: the table is created once, not on every request. */
const tables = new WeakMap<SandboxDeps, BarcodeRows>()
const rowsOf = (deps: SandboxDeps): BarcodeRows => {
  let rows = tables.get(deps)
  if (!rows) tables.set(deps, (rows = new BarcodeRows(deps)))
  return rows
}

/** The barcode table, beside the trades in the sandbox's SQLite file. */
class BarcodeRows {
  constructor(private readonly deps: SandboxDeps) {
    deps.store.db.exec(`CREATE TABLE IF NOT EXISTS barcode_trades (
      tradeNo TEXT PRIMARY KEY, authCode TEXT NOT NULL, afterQueries INTEGER, queries INTEGER NOT NULL DEFAULT 0)`)
  }
  get(tradeNo: string): BarcodeRow | undefined {
    return this.deps.store.db.prepare('SELECT * FROM barcode_trades WHERE tradeNo = ?').get(tradeNo) as
      BarcodeRow | undefined
  }
  put(row: BarcodeRow): void {
    this.deps.store.db
      .prepare(
        `INSERT INTO barcode_trades (tradeNo, authCode, afterQueries, queries) VALUES (@tradeNo, @authCode, @afterQueries, @queries)
         ON CONFLICT (tradeNo) DO UPDATE SET authCode = @authCode, afterQueries = @afterQueries, queries = @queries`,
      )
      .run(row)
  }
}

const time = (ms: number | null) => (ms === null ? undefined : formatBeijingTime(new Date(ms)))
const str = (biz: Record<string, unknown>, key: string) => {
  const value = biz[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Whether a method is one of the counter methods this module answers. */
export function isCounterMethod(method: string): method is OpenapiCounterMethod {
  return (Object.values(OPENAPI_COUNTER_METHODS) as string[]).includes(method)
}

/** The reply fields of a barcode trade, paid or waiting (openapi-protocol §14.1). */
function payFields(trade: Trade): Record<string, unknown> {
  const paid = trade.paidAt !== null
  return {
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    buyer_logon_id: maskLogin(trade.buyerEmail),
    total_amount: trade.totalFee,
    receipt_amount: paid ? trade.totalFee : '0.00',
    buyer_pay_amount: paid ? trade.totalFee : '0.00',
    point_amount: '0.00',
    invoice_amount: paid ? trade.totalFee : '0.00',
    ...(paid ? { gmt_payment: time(trade.paidAt) } : {}),
    ...(paid ? { fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount: trade.totalFee }] } : {}),
    ...(trade.buyerId ? { buyer_user_id: trade.buyerId } : {}),
  }
}

/** The counter methods of one app, on top of its trade book. */
export class CounterDesk {
  readonly #rows: BarcodeRows

  constructor(
    private readonly deps: SandboxDeps,
    private readonly book: OpenapiTradeBook,
  ) {
    this.#rows = rowsOf(deps)
  }

  /** The buyer behind every code: the first configured test buyer. */
  #buyer(): TestBuyer | undefined {
    return this.deps.config.buyers[0]
  }

  async #payAsBuyer(trade: Trade): Promise<{ trade: Trade } | { failure: OpenapiFailure }> {
    const buyer = this.#buyer()
    if (!buyer) return { failure: failure('40004', 'ACQ.PAYMENT_AUTH_CODE_INVALID', '支付授权码无效') }
    const outcome = await this.deps.trades.pay(trade.cashierToken, buyer.login, buyer.password, 'cashier')
    if (outcome?.kind === 'paid') return { trade: outcome.trade }
    if (outcome?.reason === 'insufficient')
      return { failure: failure('40004', 'ACQ.BUYER_BALANCE_NOT_ENOUGH', '买家余额不足') }
    return { failure: failure('40004', 'ACQ.TRADE_STATUS_ERROR', '交易状态不合法') }
  }

  /** `alipay.trade.pay`: scene, auth_code, then what the code says the buyer does. */
  async pay(request: OpenapiRequest, c: Context): Promise<Outcome> {
    const { biz } = request
    const scene = str(biz, 'scene')
    if (scene !== BAR_CODE_SCENE && scene !== 'wave_code')
      return { failure: failure('40004', 'ACQ.INVALID_PARAMETER', 'scene无效') }
    const authCode = str(biz, 'auth_code')
    if (!authCode) return { failure: failure('40004', 'ACQ.INVALID_PARAMETER', 'auth_code不能为空') }
    const behaviour = buyerCodeBehaviour(authCode)
    // A refused code leaves no trade behind: the cashier scans again under the same out_trade_no [sandbox].
    if (behaviour.kind === 'fail') {
      const checked = this.book.check(request)
      return checked ?? { failure: failure('40004', behaviour.subCode, behaviour.subMsg) }
    }
    const opened = this.book.open(request, c)
    if ('failure' in opened) return opened
    const now = this.deps.clock.now()
    this.deps.store.updateTrade(opened.trade.tradeNo, { visibleAt: now, modifiedAt: now })
    let trade = this.deps.store.tradeByNo(opened.trade.tradeNo)!
    const afterQueries = behaviour.kind === 'password' ? behaviour.afterQueries : null
    this.#rows.put({ tradeNo: trade.tradeNo, authCode, afterQueries, queries: 0 })
    const paysNow = behaviour.kind === 'pay' || (behaviour.kind !== 'password' && behaviour.paid)
    if (paysNow) {
      const paid = await this.#payAsBuyer(trade)
      if ('failure' in paid) return paid
      trade = paid.trade
    }
    if (behaviour.kind === 'system-error') return { failure: failure('20000', 'ACQ.SYSTEM_ERROR', '系统错误') }
    if (behaviour.kind === 'hang') {
      // The reply comes too late for the client, or never when it hangs up first.
      await sleep(HANG_MS, undefined, { signal: c.req.raw.signal, ref: false }).catch(() => undefined)
    }
    if (trade.paidAt !== null) return { fields: payFields(trade) }
    return { fields: { code: '10003', msg: 'order success pay inprocess', ...payFields(trade) } }
  }

  /** `alipay.trade.create`: a visible trade waiting for a payment made elsewhere; `buyer_id` must be a test buyer. */
  create(request: OpenapiRequest, c: Context): Outcome {
    const buyerId = str(request.biz, 'buyer_id')
    if (buyerId && !this.deps.config.buyers.some((b) => b.userId === buyerId))
      return { failure: failure('40004', 'ACQ.INVALID_PARAMETER', 'buyer_id无效') }
    const opened = this.book.open(request, c)
    if ('failure' in opened) return opened
    const now = this.deps.clock.now()
    this.deps.store.updateTrade(opened.trade.tradeNo, {
      visibleAt: opened.trade.visibleAt ?? now,
      wantedBuyer: buyerId ?? null,
      modifiedAt: now,
    })
    return { fields: { out_trade_no: opened.trade.outTradeNo, trade_no: opened.trade.tradeNo } }
  }

  /** Before a query: a barcode trade waiting for the password counts it, and is paid on the N-th. */
  async beforeQuery(request: OpenapiRequest): Promise<void> {
    const tradeNo = str(request.biz, 'trade_no')
    const outTradeNo = str(request.biz, 'out_trade_no')
    const trade = tradeNo
      ? this.deps.store.tradeByNo(tradeNo)
      : outTradeNo
        ? this.deps.store.tradeByOutTradeNo(request.app.appId, outTradeNo)
        : undefined
    if (!trade || trade.partner !== request.app.appId || trade.status !== 'WAIT_BUYER_PAY') return
    const row = this.#rows.get(trade.tradeNo)
    if (!row || row.afterQueries === null) return
    const queries = row.queries + 1
    this.#rows.put({ ...row, queries })
    if (queries >= row.afterQueries) await this.#payAsBuyer(trade)
  }
}

/** How the inspector names a trade's kind: the method, and for barcode trades the buyer's code. */
export function tradeKindLabels(deps: SandboxDeps): (trade: Trade) => string {
  const rows = rowsOf(deps)
  return (trade) => {
    if (trade.service === OPENAPI_COUNTER_METHODS.pay)
      return `barcode ${rows.get(trade.tradeNo)?.authCode ?? ''}`.trim()
    if (trade.service === OPENAPI_COUNTER_METHODS.create) return 'trade.create'
    if (trade.service === OPENAPI_COUNTER_METHODS.appPay) return 'app pay (openapi)'
    if (trade.service === APP_PAY_SERVICE) return 'app pay (mapi)'
    return trade.service
  }
}
