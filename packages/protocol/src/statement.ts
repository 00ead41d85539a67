import { Unzip, UnzipInflate, UnzipPassThrough, zipSync } from 'fflate'
import { encodeText } from './charset.js'
import { ProtocolError } from './errors.js'
import { fromFen, normalizeAmount, toFen } from './money.js'
import { formatBeijingTime } from './time.js'

/**
 * Alipay's statements (openapi-protocol §15): `alipay.data.dataservice.bill.downloadurl.query`
 * answers a short-lived URL of a zip of GBK CSV files, one with the details and one with the
 * summary, each framed by `#` comment lines. This module builds such a file (the sandbox serves
 * it) and reads one as a stream, so a month of trades never has to sit in memory.
 */

/** `bill_type`: `trade` (business details of the acquiring account), `signcustomer` (account ledger). */
export const BILL_TYPES = ['trade', 'signcustomer'] as const
export type BillType = (typeof BILL_TYPES)[number]

/** A `bill_date`: a day (`yyyy-MM-dd`) or a month (`yyyy-MM`), read as Beijing dates. */
export interface BillPeriod {
  kind: 'day' | 'month'
  /** The text as given. */
  text: string
  /** First instant of the period (inclusive), ms since the epoch. */
  start: number
  /** First instant after the period (exclusive). */
  end: number
}

const BEIJING_OFFSET_MS = 8 * 3600_000

/** Parses a `bill_date`; undefined when it is neither a real day nor a real month. */
export function parseBillDate(text: string): BillPeriod | undefined {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text)
  if (!m) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  if (month < 1 || month > 12) return undefined
  if (m[3] === undefined) {
    const start = Date.UTC(year, month - 1, 1) - BEIJING_OFFSET_MS
    return { kind: 'month', text, start, end: Date.UTC(year, month, 1) - BEIJING_OFFSET_MS }
  }
  const day = Number(m[3])
  const start = Date.UTC(year, month - 1, day) - BEIJING_OFFSET_MS
  // 2026-02-30 rolls over into March: not a real day.
  if (formatBeijingTime(new Date(start)).slice(0, 10) !== text) return undefined
  return { kind: 'day', text, start, end: start + 24 * 3600_000 }
}

/** The columns of the `trade` details file (业务明细), in the order Alipay writes them. */
export const TRADE_DETAIL_COLUMNS = [
  '支付宝交易号',
  '商户订单号',
  '业务类型',
  '商品名称',
  '创建时间',
  '完成时间',
  '门店编号',
  '门店名称',
  '操作员',
  '终端号',
  '对方账户',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝红包（元）',
  '集分宝（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '券核销金额（元）',
  '券名称',
  '商家红包消费金额（元）',
  '卡消费金额（元）',
  '退款批次号/请求号',
  '服务费（元）',
  '分润（元）',
  '备注',
] as const

/** The columns of the `trade` summary file (业务明细(汇总)). */
export const TRADE_SUMMARY_COLUMNS = [
  '门店编号',
  '门店名称',
  '交易订单总笔数',
  '退款订单总笔数',
  '已收入笔数',
  '订单金额（元）',
  '商家实收（元）',
  '支付宝优惠（元）',
  '商家优惠（元）',
  '卡消费金额（元）',
  '服务费（元）',
  '分润（元）',
  '实收净额（元）',
] as const

/** The columns of the `signcustomer` details file (账务明细). */
export const ACCOUNT_DETAIL_COLUMNS = [
  '账务流水号',
  '业务流水号',
  '商户订单号',
  '商品名称',
  '发生时间',
  '对方账号',
  '收入金额（+元）',
  '支出金额（-元）',
  '账户余额（元）',
  '交易渠道',
  '业务类型',
  '备注',
] as const

/** The columns of the `signcustomer` summary file (账务明细(汇总)). */
export const ACCOUNT_SUMMARY_COLUMNS = [
  '业务类型',
  '收入笔数',
  '收入金额（+元）',
  '支出笔数',
  '支出金额（-元）',
] as const

/** Money columns: parsed into signed canonical decimal strings ('-0.50'), empty cells as '0.00'. */
const MONEY_COLUMN = /（[+-]?元）$/

/** One line of the `trade` details: a payment (`交易`) or a refund (`退款`). Money as decimal strings. */
export interface TradeDetailRow {
  tradeNo: string
  outTradeNo: string
  /** `交易` for a payment, `退款` for a refund; other values are passed through. */
  businessType: string
  subject: string
  /** `yyyy-MM-dd HH:mm:ss`, Beijing time. */
  createdAt: string
  finishedAt: string
  buyerAccount: string
  /** The order's total, positive on payments and refunds alike. */
  orderAmount: string
  /** What the merchant received: positive on payments, negative on refunds. */
  receiptAmount: string
  merchantDiscount: string
  /** The refund's `out_request_no` (openapi) or batch number (mapi); empty on payments. */
  refundRequestNo: string
  serviceFee: string
  shareProfit: string
  remark: string
}

/** One line of the `signcustomer` details. */
export interface AccountDetailRow {
  accountLogNo: string
  tradeNo: string
  outTradeNo: string
  subject: string
  occurredAt: string
  counterparty: string
  income: string
  /** Negative or zero. */
  expense: string
  balance: string
  channel: string
  businessType: string
  remark: string
}

/** Everything the stream yields: typed detail rows, and summary rows by their column names. */
export type StatementRow =
  | { file: string; account: string | undefined; kind: 'trade-detail'; row: TradeDetailRow }
  | { file: string; account: string | undefined; kind: 'account-detail'; row: AccountDetailRow }
  | { file: string; account: string | undefined; kind: 'summary'; row: Record<string, string> }

/** money.ts's amount grammar with an optional sign; read by slicing, as every cell of a big file passes here. */
const SIGNED_AMOUNT = /^([+-]?)(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/

/** A signed amount cell as a canonical decimal string; throws STATEMENT_MALFORMED. */
export function statementAmount(cell: string): string {
  const text = cell.trim()
  if (text === '') return '0.00'
  const m = SIGNED_AMOUNT.exec(text)
  if (!m) throw new ProtocolError('STATEMENT_MALFORMED', `"${cell}" is not an amount`, { cell })
  const value = `${m[2]}.${(m[3] ?? '').padEnd(2, '0')}`
  return m[1] === '-' && value !== '0.00' ? `-${value}` : value
}

/** Splits one CSV line: fields may be double-quoted (`""` inside); cells are trimmed of tabs and spaces. */
function splitCsv(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true
      cell = ''
    } else if (ch === ',') {
      cells.push(cell.trim())
      cell = ''
    } else cell += ch
  }
  cells.push(cell.trim())
  return cells
}

function csvCell(value: string): string {
  // Alipay pads cells with a tab so spreadsheets keep long numbers as text; readers trim it.
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

type FileKind = 'trade-detail' | 'trade-summary' | 'account-detail' | 'account-summary'

/** Which file a first comment line opens; the file name is not relied on (its encoding varies). */
function fileKindOf(title: string): FileKind | undefined {
  if (title.includes('业务明细查询')) return 'trade-detail'
  if (title.includes('业务汇总查询')) return 'trade-summary'
  if (title.includes('账务明细查询')) return 'account-detail'
  if (title.includes('账务汇总查询')) return 'account-summary'
  return undefined
}

/** Reads the lines of one CSV file of a statement. Not exported: parseStatement drives it. */
class StatementFileReader {
  #kind: FileKind | undefined
  #header: string[] | undefined
  #money: boolean[] | undefined
  #inList = false
  #account: string | undefined
  #lineNo = 0

  constructor(readonly name: string) {}

  line(raw: string, out: StatementRow[]): void {
    this.#lineNo++
    const line = raw.replace(/^\uFEFF/, '').replace(/\r$/, '')
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      this.#kind ??= fileKindOf(line)
      const account = /^#账号：\[([^\]]*)\]/.exec(line)
      if (account) this.#account = account[1]
      if (/^#-+.*列表结束-*\s*$/.test(line)) this.#inList = false
      else if (/^#-+.*列表-*\s*$/.test(line)) this.#inList = true
      return
    }
    // Rows outside the framed list (none in Alipay's files) and files of no known kind are skipped.
    if (!this.#kind || (!this.#inList && this.#header)) return
    const cells = splitCsv(line)
    if (!this.#header) {
      this.#header = cells
      return
    }
    const record: Record<string, string> = {}
    this.#money ??= this.#header.map((column) => MONEY_COLUMN.test(column))
    this.#header.forEach((column, i) => {
      const cell = cells[i] ?? ''
      try {
        record[column] = this.#money![i] ? statementAmount(cell) : cell
      } catch (error) {
        throw new ProtocolError('STATEMENT_MALFORMED', `${this.name} line ${this.#lineNo}: ${column} "${cell}"`, {
          file: this.name,
          line: this.#lineNo,
          column,
          cause: error,
        })
      }
    })
    const get = (column: string) => record[column] ?? ''
    const money = (column: string) => record[column] ?? '0.00'
    const base = { file: this.name, account: this.#account }
    if (this.#kind === 'trade-detail') {
      out.push({
        ...base,
        kind: 'trade-detail',
        row: {
          tradeNo: get('支付宝交易号'),
          outTradeNo: get('商户订单号'),
          businessType: get('业务类型'),
          subject: get('商品名称'),
          createdAt: get('创建时间'),
          finishedAt: get('完成时间'),
          buyerAccount: get('对方账户'),
          orderAmount: money('订单金额（元）'),
          receiptAmount: money('商家实收（元）'),
          merchantDiscount: money('商家优惠（元）'),
          refundRequestNo: get('退款批次号/请求号'),
          serviceFee: money('服务费（元）'),
          shareProfit: money('分润（元）'),
          remark: get('备注'),
        },
      })
    } else if (this.#kind === 'account-detail') {
      out.push({
        ...base,
        kind: 'account-detail',
        row: {
          accountLogNo: get('账务流水号'),
          tradeNo: get('业务流水号'),
          outTradeNo: get('商户订单号'),
          subject: get('商品名称'),
          occurredAt: get('发生时间'),
          counterparty: get('对方账号'),
          income: money('收入金额（+元）'),
          expense: money('支出金额（-元）'),
          balance: money('账户余额（元）'),
          channel: get('交易渠道'),
          businessType: get('业务类型'),
          remark: get('备注'),
        },
      })
    } else {
      out.push({ ...base, kind: 'summary', row: record })
    }
  }
}

/** Bytes of one zip entry → GBK text → lines. TextDecoder('gbk') keeps split characters across chunks. */
class LineSplitter {
  readonly #decoder = new TextDecoder('gbk')
  #rest = ''

  constructor(private readonly reader: StatementFileReader) {}

  push(chunk: Uint8Array, final: boolean, out: StatementRow[]): void {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: !final })
    const lines = text.split('\n')
    this.#rest = final ? '' : lines.pop()!
    for (const line of lines) this.reader.line(line, out)
  }
}

async function* chunksOf(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<Uint8Array>
    return
  }
  const reader = (source as ReadableStream<Uint8Array>).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

/**
 * Reads a statement zip as it arrives (a fetch body, a file stream): unzips each CSV entry,
 * decodes GBK and yields its rows one by one. Comment lines are read for the file's kind and
 * account and otherwise skipped. Throws STATEMENT_MALFORMED on a bad amount or a broken zip.
 */
export async function* parseStatement(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<StatementRow> {
  const pending: StatementRow[] = []
  let failure: unknown
  const unzip = new Unzip((file) => {
    if (!/\.csv$/i.test(file.name)) return
    const splitter = new LineSplitter(new StatementFileReader(file.name))
    file.ondata = (error, chunk, final) => {
      if (failure) return
      if (error) failure = error
      else {
        try {
          splitter.push(chunk, final, pending)
        } catch (caught) {
          failure = caught
        }
      }
    }
    file.start()
  })
  unzip.register(UnzipInflate)
  unzip.register(UnzipPassThrough)
  const drain = function* () {
    if (failure instanceof ProtocolError) throw failure
    if (failure) throw new ProtocolError('STATEMENT_MALFORMED', `not a readable statement zip: ${String(failure)}`)
    yield* pending.splice(0)
  }
  let sawBytes = false
  for await (const chunk of chunksOf(source)) {
    sawBytes ||= chunk.length > 0
    try {
      unzip.push(chunk, false)
    } catch (error) {
      failure ??= error
    }
    yield* drain()
  }
  if (!sawBytes) throw new ProtocolError('STATEMENT_MALFORMED', 'the statement is empty')
  try {
    unzip.push(new Uint8Array(0), true)
  } catch (error) {
    failure ??= error
  }
  yield* drain()
}

/** One trade line of a statement the builder writes. Amounts as decimal strings. */
export interface StatementEntry {
  tradeNo: string
  outTradeNo: string
  kind: 'payment' | 'refund'
  subject: string
  createdAt: Date
  finishedAt: Date
  buyerAccount: string
  /** The order's total. */
  orderAmount: string
  /** Money moved: the paid amount, or the refunded amount (written negative). */
  amount: string
  refundRequestNo?: string | undefined
}

/** What a statement file is about. */
export interface StatementInput {
  /** The account (`2088…`) the statement belongs to. */
  account: string
  billType: BillType
  period: BillPeriod
  exportedAt: Date
  entries: readonly StatementEntry[]
}

const chineseTime = (ms: number) => {
  const t = formatBeijingTime(new Date(ms))
  return `${t.slice(0, 4)}年${t.slice(5, 7)}月${t.slice(8, 10)}日 ${t.slice(11)}`
}
const RULE = '-'.repeat(41)
const neg = (amount: string) => (amount === '0.00' ? amount : `-${amount}`)
/** Signed fen of a statement cell. */
const signedFen = (value: string) => {
  const signed = statementAmount(value)
  return signed.startsWith('-') ? -toFen(signed.slice(1)) : toFen(signed)
}
const sum = (values: readonly string[]) => fromFen(values.reduce((total, value) => total + signedFen(value), 0n))

function frame(title: string, listName: string, input: StatementInput, lines: string[], footer: string[]): string {
  const { period } = input
  return [
    `#${title}`,
    `#账号：[${input.account}]`,
    `#起始日期：[${chineseTime(period.start)}]   终止日期：[${chineseTime(period.end)}]`,
    `#${RULE}${listName}${RULE}`,
    ...lines,
    `#${RULE}${listName}结束${RULE}`,
    ...footer,
    `#导出时间：[${chineseTime(input.exportedAt.getTime())}]`,
    '',
  ].join('\r\n')
}

const row = (cells: readonly string[]) => cells.map(csvCell).join(',')

function tradeFiles(input: StatementInput): [details: string, summary: string] {
  const payments = input.entries.filter((e) => e.kind === 'payment')
  const refunds = input.entries.filter((e) => e.kind === 'refund')
  const lines = [row(TRADE_DETAIL_COLUMNS)]
  for (const e of input.entries) {
    const receipt = e.kind === 'payment' ? normalizeAmount(e.amount) : neg(normalizeAmount(e.amount))
    lines.push(
      row([
        e.tradeNo + '\t',
        e.outTradeNo + '\t',
        e.kind === 'payment' ? '交易' : '退款',
        e.subject,
        formatBeijingTime(e.createdAt),
        formatBeijingTime(e.finishedAt),
        '',
        '',
        '',
        '',
        e.buyerAccount,
        normalizeAmount(e.orderAmount),
        receipt,
        '0.00',
        '0.00',
        '0.00',
        '0.00',
        '0.00',
        '',
        '0.00',
        '0.00',
        e.kind === 'refund' ? (e.refundRequestNo ?? '') + '\t' : '',
        '0.00',
        '0.00',
        '',
      ]),
    )
  }
  const paid = sum(payments.map((e) => e.amount))
  const refunded = neg(sum(refunds.map((e) => e.amount)))
  const details = frame('支付宝业务明细查询', '业务明细列表', input, lines, [
    `#交易合计：${payments.length}笔，商家实收共${paid}元，商家优惠共0.00元`,
    `#退款合计：${refunds.length}笔，商家实收退款共${refunded}元，商家优惠退款共0.00元`,
  ])
  const orderTotal = sum(payments.map((e) => e.orderAmount))
  const net = sum([paid, refunded])
  const summaryLines = [
    row(TRADE_SUMMARY_COLUMNS),
    row(
      ['', '合计', String(payments.length), String(refunds.length), String(payments.length), orderTotal, net].concat([
        '0.00',
        '0.00',
        '0.00',
        '0.00',
        '0.00',
        net,
      ]),
    ),
  ]
  const summary = frame('支付宝业务汇总查询', '业务汇总列表', input, summaryLines, [])
  return [details, summary]
}

function accountFiles(input: StatementInput): [details: string, summary: string] {
  const lines = [row(ACCOUNT_DETAIL_COLUMNS)]
  let balanceFen = 0n
  let logNo = 0
  const dayKey = input.period.text.replace(/-/g, '')
  for (const e of input.entries) {
    const amount = normalizeAmount(e.amount)
    balanceFen += e.kind === 'payment' ? toFen(amount) : -toFen(amount)
    logNo++
    lines.push(
      row([
        `${dayKey}${String(logNo).padStart(12, '0')}\t`,
        e.tradeNo + '\t',
        e.outTradeNo + '\t',
        e.subject,
        formatBeijingTime(e.finishedAt),
        e.buyerAccount,
        e.kind === 'payment' ? amount : '0.00',
        e.kind === 'refund' ? neg(amount) : '0.00',
        fromFen(balanceFen),
        '支付宝',
        e.kind === 'payment' ? '在线支付' : '交易退款',
        '',
      ]),
    )
  }
  const payments = input.entries.filter((e) => e.kind === 'payment')
  const refunds = input.entries.filter((e) => e.kind === 'refund')
  const details = frame('支付宝账务明细查询', '账务明细列表', input, lines, [
    `#收入合计：${payments.length}笔，共${sum(payments.map((e) => e.amount))}元`,
    `#支出合计：${refunds.length}笔，共${neg(sum(refunds.map((e) => e.amount)))}元`,
  ])
  const summary = frame(
    '支付宝账务汇总查询',
    '账务汇总列表',
    input,
    [
      row(ACCOUNT_SUMMARY_COLUMNS),
      row(['在线支付', String(payments.length), sum(payments.map((e) => e.amount)), '0', '0.00']),
      row(['交易退款', '0', '0.00', String(refunds.length), neg(sum(refunds.map((e) => e.amount)))]),
    ],
    [],
  )
  return [details, summary]
}

/** File names as Alipay gives them: `<account>_<yyyyMMdd|yyyyMM>_业务明细.csv` and its `(汇总)`. */
export function statementFileNames(input: Pick<StatementInput, 'account' | 'billType' | 'period'>): {
  zip: string
  details: string
  summary: string
} {
  const stem = `${input.account}_${input.period.text.replace(/-/g, '')}`
  const label = input.billType === 'trade' ? '业务明细' : '账务明细'
  return { zip: `${stem}.csv.zip`, details: `${stem}_${label}.csv`, summary: `${stem}_${label}(汇总).csv` }
}

/** Builds the statement zip: its two CSV files, GBK-encoded, CRLF lines, deflated. */
export function buildStatementZip(input: StatementInput): Uint8Array {
  const names = statementFileNames(input)
  const [details, summary] = input.billType === 'trade' ? tradeFiles(input) : accountFiles(input)
  const mtime = input.exportedAt
  return zipSync({
    [names.details]: [encodeText(details, 'gbk'), { mtime }],
    [names.summary]: [encodeText(summary, 'gbk'), { mtime }],
  })
}
