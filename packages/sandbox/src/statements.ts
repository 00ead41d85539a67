import { createHmac, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import type { Context } from 'hono'
import {
  BILL_TYPES,
  buildStatementZip,
  parseBillDate,
  statementFileNames,
  type BillPeriod,
  type BillType,
  type StatementEntry,
} from '@alipay-payment-handler/protocol'
import type { OpenapiApp } from './config.js'
import type { SandboxDeps } from './deps.js'
import { maskLogin } from './openapi-messages.js'
import { OpenapiRefunds } from './openapi-refunds.js'
import { failure, type OpenapiFailure } from './openapi-reply.js'
import type { OpenapiRequest } from './openapi-request.js'
import type { Trade } from './store.js'

/** How long a download URL works: the real gateway's links last 30 seconds [sandbox: sandbox time]. */
export const STATEMENT_URL_LIFETIME_MS = 30_000

/** The path of the download, named like Alipay's bill centre resource. */
const DOWNLOAD_PATH = '/downloadBillFile.resource'

const invalid = (subMsg: string) => ({ failure: failure('40004', 'isv.invalid-arguments', subMsg) })

/** The URL's signature: HMAC keyed by the gateway's private key, so a restart keeps links valid. */
function urlToken(deps: SandboxDeps, fields: readonly string[]): string {
  return createHmac('sha256', deps.config.gatewayKeys.privateKey).update(fields.join('\n')).digest('hex')
}

/**
 * `alipay.data.dataservice.bill.downloadurl.query` (openapi-protocol §15): a day or month that has
 * ended (Beijing time) has a statement; today, the future, or a bad type or date do not.
 */
export function statementUrl(
  deps: SandboxDeps,
  request: OpenapiRequest,
  c: Context,
): { failure: OpenapiFailure } | { fields: Record<string, unknown> } {
  const billType = request.biz['bill_type']
  const billDate = request.biz['bill_date']
  if (typeof billType !== 'string' || !(BILL_TYPES as readonly string[]).includes(billType))
    return invalid('bill_type不合法')
  const period = typeof billDate === 'string' ? parseBillDate(billDate) : undefined
  if (!period) return invalid('bill_date不合法')
  const now = deps.clock.now()
  if (period.end > now) return { failure: failure('40004', 'isp.bill_not_exist', '账单不存在') }
  const expires = String(now + STATEMENT_URL_LIFETIME_MS)
  const fields = [request.app.appId, billType, period.text, expires]
  const url = new URL(DOWNLOAD_PATH, new URL(c.req.url).origin)
  const names = statementFileNames({ account: request.app.sellerId, billType: billType as BillType, period })
  url.searchParams.set('bizType', billType)
  url.searchParams.set('appId', request.app.appId)
  url.searchParams.set('fileType', 'csv.zip')
  url.searchParams.set('bizDates', period.text.replace(/-/g, ''))
  url.searchParams.set('downloadFileName', names.zip)
  url.searchParams.set('timestamp', expires)
  url.searchParams.set('token', urlToken(deps, fields))
  return { fields: { bill_download_url: url.toString() } }
}

/** The app's payments and refunds that completed inside the period, in time order. */
export function statementEntries(deps: SandboxDeps, app: OpenapiApp, period: BillPeriod): StatementEntry[] {
  new OpenapiRefunds(deps.store) // makes sure its table exists
  const db = deps.store.db
  const paid = db
    .prepare('SELECT * FROM trades WHERE partner = ? AND paidAt >= ? AND paidAt < ? ORDER BY paidAt, tradeNo')
    .all(app.appId, period.start, period.end) as Trade[]
  const refunds = db
    .prepare(
      `SELECT r.outRequestNo, r.amount, r.createdAt AS refundedAt, t.* FROM openapi_refunds r
       JOIN trades t ON t.tradeNo = r.tradeNo
       WHERE t.partner = ? AND r.createdAt >= ? AND r.createdAt < ? ORDER BY r.createdAt, r.outRequestNo`,
    )
    .all(app.appId, period.start, period.end) as (Trade & {
    outRequestNo: string
    amount: string
    refundedAt: number
  })[]
  const entry = (t: Trade, kind: StatementEntry['kind'], at: number, amount: string, requestNo?: string) => ({
    tradeNo: t.tradeNo,
    outTradeNo: t.outTradeNo,
    kind,
    subject: t.subject,
    createdAt: new Date(t.createdAt),
    finishedAt: new Date(at),
    buyerAccount: maskLogin(t.buyerEmail) ?? '',
    orderAmount: t.totalFee,
    amount,
    refundRequestNo: requestNo,
  })
  return [
    ...paid.map((t) => entry(t, 'payment', t.paidAt!, t.totalFee)),
    ...refunds.map((r) => entry(r, 'refund', r.refundedAt, r.amount, r.outRequestNo)),
  ].sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime())
}

/** The download behind a statement URL: the zip, or 404 once the link expired or was altered. */
export function statementRoutes(deps: SandboxDeps): Hono {
  const app = new Hono()
  app.get(DOWNLOAD_PATH, (c) => {
    const q = (name: string) => c.req.query(name) ?? ''
    const billType = q('bizType')
    const period = parseBillDate(
      q('bizDates').replace(/^(\d{4})(\d{2})(\d{2})?$/, (_, y, m, d) => (d ? `${y}-${m}-${d}` : `${y}-${m}`)),
    )
    const openapiApp = deps.config.apps.find((a) => a.appId === q('appId'))
    const expected = Buffer.from(urlToken(deps, [q('appId'), billType, period?.text ?? '', q('timestamp')]))
    const given = Buffer.from(q('token'))
    const genuine = given.length === expected.length && timingSafeEqual(given, expected)
    if (!genuine || !period || !openapiApp || !(BILL_TYPES as readonly string[]).includes(billType))
      return c.text('账单不存在', 404)
    if (Number(q('timestamp')) < deps.clock.now()) return c.text('下载链接已过期', 404)
    const input = {
      account: openapiApp.sellerId,
      billType: billType as BillType,
      period,
      exportedAt: new Date(deps.clock.now()),
      entries: statementEntries(deps, openapiApp, period),
    }
    const zip = buildStatementZip(input)
    const name = statementFileNames(input).zip
    return new Response(zip, {
      headers: {
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="${name}"`,
      },
    })
  })
  return app
}
