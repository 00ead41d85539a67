import { Hono, type Context } from 'hono'
import QRCode from 'qrcode'
import { OPENAPI_METHODS, PC_PAY_SERVICE } from '@alipay-payment-handler/protocol'
import type { SandboxDeps } from './deps.js'
import type { Trade } from './store.js'
import type { PayOutcome } from './trades.js'
import { pageHeaders, type Markup } from './views/layout.js'
import { cashierPage, errorPage, phonePage, resultPage, type CashierMessage } from './views/pages.js'

const TOKEN = /^[0-9a-f]{32}$/

function origin(url: string | null): string[] {
  if (!url) return []
  try {
    return [new URL(url).origin]
  } catch {
    return []
  }
}

function page(c: Context, markup: Markup, formTargets: string[] = [], status = 200) {
  for (const [k, v] of Object.entries(pageHeaders(formTargets))) c.header(k, v)
  return c.html(markup, status as 200)
}

/** The phone page URL a cashier's QR code encodes. */
function phoneUrl(c: Context, trade: Trade): string {
  return `${new URL(c.req.url).origin}/phone/scan?code=${trade.cashierToken}`
}

/** Where a browser goes once the trade is no longer payable: the signed return, else the cashier's result page. */
function nextUrl(trade: Trade): string {
  return trade.returnTarget ?? `/cashier/${trade.cashierToken}`
}

async function readForm(c: Context): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? ''
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) return {}
  const body = await c.req.parseBody()
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v
  return out
}

/** The page of a trade that can no longer be paid: paid, or closed (by close_trade, it_b_pay or refund). */
function finalPage(c: Context, trade: Trade) {
  if (trade.paidAt !== null && trade.status !== 'TRADE_CLOSED') {
    return page(
      c,
      resultPage({
        title: '付款成功 Paid',
        heading: '付款成功 · Payment successful',
        text: trade.returnUrl ? 'You can go back to the shop.' : 'The shop will be told by the gateway.',
        trade,
        next: trade.returnTarget ?? undefined,
      }),
    )
  }
  return page(
    c,
    resultPage({
      title: '交易关闭 Closed',
      heading: '交易已关闭 · This trade is closed',
      text: 'It can no longer be paid. Place the order again at the shop.',
      trade,
      errorCode: 'TRADE_NOT_ALLOWED_PAY',
      next: trade.showUrl ?? undefined,
    }),
  )
}

/** The cashier (desktop and WAP) and the buyer's phone page. */
export function cashierRoutes(deps: SandboxDeps): Hono {
  const app = new Hono()
  const { trades, store, config } = deps

  const load = (token: string): Trade | undefined => {
    if (!TOKEN.test(token)) return undefined
    const trade = store.tradeByCashierToken(token)
    return trade ? trades.refresh(trade) : undefined
  }
  const notFound = (c: Context) => page(c, errorPage('TRADE_NOT_EXIST', undefined), [], 404)

  const showCashier = async (c: Context, trade: Trade, message?: CashierMessage, login?: string) => {
    const desktop = trade.service === PC_PAY_SERVICE || trade.service === OPENAPI_METHODS.pagePay
    const phone = phoneUrl(c, trade)
    const qrSvg = desktop
      ? await QRCode.toString(phone, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
      : undefined
    const markup = cashierPage({ trade, desktop, qrSvg, phoneUrl: phone, buyers: config.buyers, message, login })
    // Cancel redirects to show_url after a POST, and Chrome checks that redirect against form-action.
    return page(c, markup, [...origin(trade.returnUrl), ...origin(trade.showUrl)])
  }

  app.get('/cashier/:token', async (c) => {
    const trade = load(c.req.param('token'))
    if (!trade) return notFound(c)
    return trade.status === 'WAIT_BUYER_PAY' ? showCashier(c, trade) : finalPage(c, trade)
  })

  app.get('/cashier/:token/status', (c) => {
    const trade = load(c.req.param('token'))
    if (!trade) return c.json({ error: 'TRADE_NOT_EXIST' }, 404)
    c.header('cache-control', 'no-store')
    const done = trade.status !== 'WAIT_BUYER_PAY'
    return c.json({ tradeStatus: trade.status, paid: trade.paidAt !== null, next: done ? nextUrl(trade) : null })
  })

  const afterPay = async (c: Context, outcome: PayOutcome, onPhone: boolean, login: string) => {
    if (outcome.kind === 'paid') {
      if (onPhone)
        return page(
          c,
          resultPage({
            title: '付款成功 Paid',
            heading: '付款成功 · Paid on the phone',
            text: 'The desktop cashier moves on by itself.',
            trade: outcome.trade,
          }),
        )
      // 303: the browser follows with a GET to return_url (or to the cashier's success page).
      return c.redirect(nextUrl(outcome.trade), 303)
    }
    if (outcome.reason === 'not-payable') return finalPage(c, outcome.trade)
    if (onPhone)
      return page(c, phonePage({ trade: outcome.trade, message: outcome.reason, buyers: config.buyers, login }))
    return showCashier(c, outcome.trade, outcome.reason, login)
  }

  app.post('/cashier/:token/pay', async (c) => {
    const form = await readForm(c)
    const outcome = await trades.pay(c.req.param('token'), form['login'] ?? '', form['password'] ?? '', 'cashier')
    return outcome ? afterPay(c, outcome, false, form['login'] ?? '') : notFound(c)
  })

  // Leaving the cashier does not close the trade; it goes back to show_url when the request gave one
  // (WAP always, PC optionally), else to a page saying the order is still payable [inferred].
  app.post('/cashier/:token/cancel', (c) => {
    const trade = load(c.req.param('token'))
    if (!trade) return notFound(c)
    if (trade.showUrl) return c.redirect(trade.showUrl, 303)
    return page(
      c,
      resultPage({
        title: '已取消 Cancelled',
        heading: '您已取消付款 · You left the cashier',
        text: 'The order is still unpaid. You can go back and pay it until it expires.',
        trade,
        next: `/cashier/${trade.cashierToken}`,
        nextLabel: '继续付款 Back to the cashier',
      }),
    )
  })

  app.get('/phone/scan', (c) => {
    const trade = load(c.req.query('code') ?? '')
    if (!trade) return notFound(c)
    if (trade.status !== 'WAIT_BUYER_PAY') return finalPage(c, trade)
    return page(c, phonePage({ trade, buyers: config.buyers }))
  })

  app.post('/phone/pay', async (c) => {
    const form = await readForm(c)
    const code = form['code'] ?? ''
    if (!TOKEN.test(code)) return notFound(c)
    const outcome = await trades.pay(code, form['login'] ?? '', form['password'] ?? '', 'qrpay')
    return outcome ? afterPay(c, outcome, true, form['login'] ?? '') : notFound(c)
  })

  return app
}
