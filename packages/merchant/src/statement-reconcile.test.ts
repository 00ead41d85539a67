import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildStatementZip, parseBillDate, parseStatement } from '@alipay-payment-handler/protocol'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { openSqliteOrderStore, type Order } from './order-store.js'
import { runStatementReconciliation, type StatementReconcileDeps } from './statement-reconcile.js'

const dir = mkdtempSync(join(tmpdir(), 'statement-reconcile-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let dbCount = 0
const day = '2026-12-05'
const at = Date.parse('2026-12-05T02:00:00Z') // 10:00 in Beijing

function order(orderId: string, amount: string): Order {
  return {
    orderId,
    subject: 's',
    amount,
    state: 'wait',
    tradeStatus: undefined,
    tradeNo: undefined,
    payTime: undefined,
    refunded: '0.00',
    createdAt: at,
    updatedAt: at,
    expiresAt: at + 3600_000,
  }
}

function deps(statementRows: StatementReconcileDeps['statementRows']) {
  const store = openSqliteOrderStore(join(dir, `orders-${++dbCount}.db`))
  const paid: string[] = []
  return {
    store,
    paid,
    deps: {
      store,
      statementRows,
      paid: async (o: Order) => void paid.push(o.orderId),
      now: () => at + 2 * 24 * 3600_000,
      log: silentLogger(),
    } satisfies StatementReconcileDeps,
  }
}

/** A real statement zip, parsed as the gateway client would. */
const statement = (entries: Parameters<typeof buildStatementZip>[0]['entries']) => () => {
  const zip = buildStatementZip({
    account: '2088000000000001',
    billType: 'trade',
    period: parseBillDate(day)!,
    exportedAt: new Date(at + 24 * 3600_000),
    entries,
  })
  return parseStatement(
    (async function* () {
      yield zip
    })(),
  )
}

describe('runStatementReconciliation', () => {
  it('changes nothing when the statement cannot be read, and reports why', async () => {
    // A download cut short and damaged on the way.
    const broken = buildStatementZip({
      account: '2088000000000001',
      billType: 'trade',
      period: parseBillDate(day)!,
      exportedAt: new Date(at),
      entries: [],
    }).slice(0, 200)
    broken[40] = broken[40]! ^ 0xff
    const { store, deps: d } = deps(() =>
      parseStatement(
        (async function* () {
          yield broken
        })(),
      ),
    )
    await store.insert(order('A1', '1.00'))
    const report = await runStatementReconciliation(d, { billDate: day })
    expect(report.errors).toEqual([expect.objectContaining({ orderId: '*', code: 'STATEMENT_MALFORMED' })])
    expect(report.repaired).toEqual([])
    expect((await store.get('A1'))?.state).toBe('wait')
    expect(await store.latestReconcileReport()).toMatchObject({ runId: report.runId, mode: 'statement' })
    store.close()
  })

  it('repairs a lost payment once: the second run finds the order paid and leaves it alone', async () => {
    const line = {
      tradeNo: '2026120521001001',
      outTradeNo: 'P1',
      kind: 'payment' as const,
      subject: 's',
      createdAt: new Date(at),
      finishedAt: new Date(at + 60_000),
      buyerAccount: 'b***@x.com',
      orderAmount: '1.00',
      amount: '1.00',
    }
    const { store, paid, deps: d } = deps(statement([line]))
    await store.insert(order('P1', '1.00'))
    const first = await runStatementReconciliation(d, { billDate: day })
    expect(first.repaired).toEqual([expect.objectContaining({ orderId: 'P1', action: 'MARK_PAID', from: 'wait' })])
    expect(await store.get('P1')).toMatchObject({ state: 'success', payTime: '2026-12-05 10:01:00' })
    const second = await runStatementReconciliation(d, { billDate: day })
    expect(second.repaired).toEqual([])
    expect(paid).toEqual(['P1'])
    store.close()
  })

  it('refuses a bill date that is not a day or a month', async () => {
    const { store, deps: d } = deps(statement([]))
    await expect(runStatementReconciliation(d, { billDate: '2026-12-32' })).rejects.toThrow(RangeError)
    store.close()
  })
})
