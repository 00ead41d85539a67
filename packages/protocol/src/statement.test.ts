import { strToU8, unzipSync, zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { encodeText } from './charset.js'
import { ProtocolError } from './errors.js'
import {
  buildStatementZip,
  parseBillDate,
  parseStatement,
  statementAmount,
  statementFileNames,
  type StatementInput,
  type StatementRow,
} from './statement.js'

const day = parseBillDate('2026-12-05')!

const input: StatementInput = {
  account: '2088102146225135',
  billType: 'trade',
  period: day,
  exportedAt: new Date('2026-12-06T01:00:00Z'),
  entries: [
    {
      tradeNo: '2026120522001400000000000001',
      outTradeNo: 'ORDER-1',
      kind: 'payment',
      subject: '测试商品，含逗号 "引号"',
      createdAt: new Date('2026-12-05T01:00:00Z'),
      finishedAt: new Date('2026-12-05T01:00:30Z'),
      buyerAccount: 'buy***@example.com',
      orderAmount: '12.5',
      amount: '12.5',
    },
    {
      tradeNo: '2026120522001400000000000001',
      outTradeNo: 'ORDER-1',
      kind: 'refund',
      subject: '测试商品，含逗号 "引号"',
      createdAt: new Date('2026-12-05T01:00:00Z'),
      finishedAt: new Date('2026-12-05T03:00:00Z'),
      buyerAccount: 'buy***@example.com',
      orderAmount: '12.50',
      amount: '2.00',
      refundRequestNo: 'R-1',
    },
  ],
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<StatementRow[]> {
  const rows: StatementRow[] = []
  for await (const row of parseStatement(source)) rows.push(row)
  return rows
}

/** Hands the bytes over in pieces of `size`, the way a network body arrives. */
async function* pieces(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size)
}

describe('bill dates', () => {
  it('reads days and months as Beijing periods', () => {
    expect(day).toMatchObject({ kind: 'day', start: Date.parse('2026-12-04T16:00:00Z') })
    expect(day.end - day.start).toBe(24 * 3600_000)
    const month = parseBillDate('2026-02')!
    expect(month.kind).toBe('month')
    expect(month.end - month.start).toBe(28 * 24 * 3600_000)
  })
  it('refuses dates that are not real', () => {
    for (const text of ['2026-02-30', '2026-13', '20261205', '2026-12-5', ''])
      expect(parseBillDate(text)).toBeUndefined()
  })
})

describe('statement amounts', () => {
  it('are signed canonical decimal strings', () => {
    expect(statementAmount('12.5')).toBe('12.50')
    expect(statementAmount('-0.01')).toBe('-0.01')
    expect(statementAmount(' 3\t')).toBe('3.00')
    expect(statementAmount('')).toBe('0.00')
    expect(statementAmount('-0')).toBe('0.00')
  })
  it('refuses anything else with STATEMENT_MALFORMED', () => {
    for (const cell of ['1e3', '1.234', 'abc', '--1'])
      expect(() => statementAmount(cell)).toThrow(expect.objectContaining({ code: 'STATEMENT_MALFORMED' }))
  })
})

describe('parseStatement', () => {
  it('reads back a built trade statement, details and summary, in any chunking', async () => {
    const zip = buildStatementZip(input)
    for (const size of [zip.length, 1, 7, 100]) {
      const rows = await collect(pieces(zip, size))
      const details = rows.filter((r) => r.kind === 'trade-detail')
      expect(details.map((r) => r.row)).toEqual([
        expect.objectContaining({
          outTradeNo: 'ORDER-1',
          businessType: '交易',
          subject: '测试商品，含逗号 "引号"',
          orderAmount: '12.50',
          receiptAmount: '12.50',
          finishedAt: '2026-12-05 09:00:30',
          refundRequestNo: '',
        }),
        expect.objectContaining({ businessType: '退款', receiptAmount: '-2.00', refundRequestNo: 'R-1' }),
      ])
      expect(details[0]!.account).toBe(input.account)
      const summary = rows.filter((r) => r.kind === 'summary')
      expect(summary).toHaveLength(1)
      expect(summary[0]!.row).toMatchObject({ 门店名称: '合计', '商家实收（元）': '10.50', 交易订单总笔数: '1' })
    }
  })

  it("writes GBK bytes with Alipay's framing comments and file names", () => {
    const names = statementFileNames(input)
    expect(names).toEqual({
      zip: '2088102146225135_20261205.csv.zip',
      details: '2088102146225135_20261205_业务明细.csv',
      summary: '2088102146225135_20261205_业务明细(汇总).csv',
    })
    const files = unzipSync(buildStatementZip(input))
    const details = files[names.details]!
    // 支付宝 in GBK, not UTF-8.
    expect([...details.slice(1, 7)]).toEqual([0xd6, 0xa7, 0xb8, 0xb6, 0xb1, 0xa6])
    const lines = new TextDecoder('gbk').decode(details).split('\r\n')
    expect(lines.slice(0, 4)).toEqual([
      '#支付宝业务明细查询',
      '#账号：[2088102146225135]',
      '#起始日期：[2026年12月05日 00:00:00]   终止日期：[2026年12月06日 00:00:00]',
      `#${'-'.repeat(41)}业务明细列表${'-'.repeat(41)}`,
    ])
    expect(lines.at(-2)).toBe('#导出时间：[2026年12月06日 09:00:00]')
    expect(lines).toContain('#交易合计：1笔，商家实收共12.50元，商家优惠共0.00元')
    expect(files[names.summary]).toBeDefined()
  })

  it('reads a hand-made file: blank lines, LF endings, comments around the rows', async () => {
    const csv = [
      '#支付宝业务明细查询',
      '#账号：[2088000000000001]',
      '#起始日期：[2026年12月05日 00:00:00]   终止日期：[2026年12月06日 00:00:00]',
      '',
      '#-----------------------------------------业务明细列表----------------------------------------',
      '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注',
      '2026120522001\t,A1\t,交易,书,2026-12-05 10:00:00,2026-12-05 10:00:05,,,,,x***@y.com,100,100,0,0,0,0,0,,0,0,,-0.60,0,',
      '#-----------------------------------------业务明细列表结束------------------------------------',
      '#交易合计：1笔，商家实收共100.00元，商家优惠共0.00元',
      '#导出时间：[2026年12月06日 09:05:38]',
    ].join('\n')
    const zip = zipSync({ 'a.csv': encodeText(csv, 'gbk'), 'readme.txt': strToU8('not a csv') })
    const rows = await collect(pieces(zip, 13))
    expect(rows).toEqual([
      {
        file: 'a.csv',
        account: '2088000000000001',
        kind: 'trade-detail',
        row: expect.objectContaining({
          tradeNo: '2026120522001',
          outTradeNo: 'A1',
          orderAmount: '100.00',
          serviceFee: '-0.60',
        }),
      },
    ])
  })

  it('reads a ReadableStream and the signcustomer ledger', async () => {
    const zip = buildStatementZip({ ...input, billType: 'signcustomer' })
    const stream = new Blob([zip]).stream()
    const rows = await collect(stream as unknown as AsyncIterable<Uint8Array>)
    const ledger = rows.filter((r) => r.kind === 'account-detail').map((r) => r.row)
    expect(ledger).toEqual([
      expect.objectContaining({ outTradeNo: 'ORDER-1', income: '12.50', expense: '0.00', balance: '12.50' }),
      expect.objectContaining({ income: '0.00', expense: '-2.00', balance: '10.50', businessType: '交易退款' }),
    ])
  })

  it('refuses a bad amount, a broken zip and an empty body with STATEMENT_MALFORMED', async () => {
    const bad = zipSync({
      'b.csv': encodeText('#支付宝业务明细查询\n#----业务明细列表----\n订单金额（元）\n3.4.5\n', 'gbk'),
    })
    await expect(collect(pieces(bad, 10))).rejects.toThrow(ProtocolError)
    await expect(collect(pieces(bad, 10))).rejects.toMatchObject({ code: 'STATEMENT_MALFORMED' })
    const broken = buildStatementZip(input).slice(0, 200)
    broken[40] = broken[40]! ^ 0xff
    await expect(collect(pieces(broken, 50))).rejects.toMatchObject({ code: 'STATEMENT_MALFORMED' })
    await expect(collect(pieces(new Uint8Array(0), 1))).rejects.toMatchObject({ code: 'STATEMENT_MALFORMED' })
  })
})
