import { Hono, type Context } from 'hono'
import { html } from 'hono/html'
import {
  APP_PAY_SERVICE,
  OPENAPI_COUNTER_METHODS,
  PC_PAY_SERVICE,
  formatBeijingTime,
  isSecuritypayOrderString,
  normalizeCharset,
  parseSecuritypayOrderString,
  signString,
  verifyOpenapiAppOrderString,
  verifySecuritypayOrderString,
  type Params,
} from '@alipay-payment-handler/protocol'
import type { SandboxDeps } from './deps.js'
import { OpenapiTradeBook } from './openapi-gateway.js'
import { gatewayJson } from './openapi-reply.js'
import type { Trade } from './store.js'
import { layout, pageHeaders } from './views/layout.js'

/**
 * `/app/pay`: the page that stands in for the Alipay app. It takes the order string a merchant
 * server signed for the app SDK, either kind (openapi `alipay.trade.app.pay`, mapi
 * `mobile.securitypay.pay`, mapi-protocol §4.8), checks it, pays it as a test buyer and sends the
 * notification. It answers what the SDK hands back to the merchant's app: `resultStatus`, `memo`,
 * `result` (JSON when asked with `Accept: application/json`).
 */

/** What the app SDK reports: 9000 paid, 4000 failed (openapi-protocol §14.3). */
export interface AppPayResult {
  resultStatus: '9000' | '4000'
  memo: string
  result: string
  tradeNo?: string | undefined
}

const failed = (memo: string): AppPayResult => ({ resultStatus: '4000', memo, result: '' })

/** Checks, opens and pays an order string; `login`/`password` are a test buyer's. */
export async function payOrderString(
  deps: SandboxDeps,
  orderString: string,
  login: string,
  password: string,
): Promise<AppPayResult> {
  const text = orderString.trim()
  const opened = isSecuritypayOrderString(text) ? await openSecuritypay(deps, text) : await openAppPay(deps, text)
  if ('memo' in opened) return opened
  const outcome = await deps.trades.pay(opened.trade.cashierToken, login, password, 'cashier')
  if (!outcome) return failed('订单不存在')
  if (outcome.kind === 'refused') return failed(`支付失败 (${outcome.reason})`)
  return { resultStatus: '9000', memo: '', result: await opened.result(outcome.trade), tradeNo: outcome.trade.tradeNo }
}

type Opened = { trade: Trade; result: (paid: Trade) => Promise<string> } | AppPayResult

async function openSecuritypay(deps: SandboxDeps, text: string): Promise<Opened> {
  const parsed = parseSecuritypayOrderString(text)
  if (!parsed) return failed('订单串格式错误')
  const partner = deps.trades.partner(parsed.params['partner'])
  if (!partner?.rsaPublicKey) return failed('ILLEGAL_PARTNER')
  const verified = await verifySecuritypayOrderString(text, partner.rsaPublicKey)
  if (!verified.ok) return failed(`ILLEGAL_SIGN (${verified.reason})`)
  if (verified.params['service'] !== APP_PAY_SERVICE) return failed('ILLEGAL_SERVICE')
  // The same field rules as the web pay services; only the service name differs (mapi-protocol §2.1).
  const params: Params = { ...verified.params, service: PC_PAY_SERVICE, sign_type: 'RSA' }
  const opened = deps.trades.openPayRequest(params, partner)
  if ('refusal' in opened) return failed(opened.refusal.code)
  deps.store.updateTrade(opened.trade.tradeNo, { service: APP_PAY_SERVICE })
  return {
    trade: { ...opened.trade, service: APP_PAY_SERVICE },
    // The sync result repeats the signed pairs, adds success="true" and is signed by the gateway (mapi-protocol §4.8).
    async result() {
      const content = `${parsed.signedText}&success="true"`
      const sign = await signString(content, 'RSA', { privateKey: deps.config.gatewayKeys.privateKey })
      return `${content}&sign_type="RSA"&sign="${encodeURIComponent(sign)}"`
    },
  }
}

async function openAppPay(deps: SandboxDeps, text: string): Promise<Opened> {
  let decoded
  const appId = /(?:^|&)app_id=(\d+)/.exec(text)?.[1]
  const app = deps.config.apps.find((a) => a.appId === appId)
  if (!app) return failed('isv.invalid-app-id')
  try {
    decoded = await verifyOpenapiAppOrderString(text, app.publicKey)
  } catch {
    return failed('订单串格式错误')
  }
  const { params, verified } = decoded
  if (params['method'] !== OPENAPI_COUNTER_METHODS.appPay) return failed('isv.invalid-method')
  if (!verified.ok) return failed('isv.invalid-signature')
  let biz: unknown
  try {
    biz = JSON.parse(params['biz_content'] ?? '')
  } catch {
    biz = undefined
  }
  if (typeof biz !== 'object' || biz === null || Array.isArray(biz)) return failed('isv.invalid-parameter')
  const charset = normalizeCharset(params['charset']) ?? 'utf-8'
  const book = new OpenapiTradeBook(deps, app)
  const request = { app, method: OPENAPI_COUNTER_METHODS.appPay, charset, params, biz: biz as Record<string, unknown> }
  // The book only reads the Context for precreate's origin; the app page never precreates.
  const opened = book.open(request, undefined as unknown as Context)
  if ('failure' in opened) return failed(opened.failure.subCode)
  return {
    trade: opened.trade,
    // What the SDK returns to the app: alipay_trade_app_pay_response, signed by the gateway.
    async result(paid) {
      const response = gatewayJson({
        code: '10000',
        msg: 'Success',
        app_id: app.appId,
        auth_app_id: app.appId,
        charset,
        timestamp: formatBeijingTime(new Date(deps.clock.now())),
        out_trade_no: paid.outTradeNo,
        trade_no: paid.tradeNo,
        total_amount: paid.totalFee,
        seller_id: paid.sellerId,
      })
      const signType = app.signType ?? 'RSA2'
      const sign = await signString(response, signType, { privateKey: deps.config.gatewayKeys.privateKey })
      return `{"alipay_trade_app_pay_response":${response},"sign":"${sign}","sign_type":"${signType}"}`
    },
  }
}

function appPage(c: Context, deps: SandboxDeps, result?: AppPayResult, orderString = '') {
  for (const [k, v] of Object.entries(pageHeaders())) c.header(k, v)
  const buyer = deps.config.buyers[0]
  return c.html(
    layout({
      title: '支付宝 App',
      bodyClass: 'phone',
      body: html`<section class="login">
        <h1>支付宝 App (sandbox)</h1>
        <p>
          Paste the order string your server signed for the app SDK (<code>alipay.trade.app.pay</code> or
          <code>mobile.securitypay.pay</code>).
        </p>
        <form class="pay-form" method="post" action="/app/pay">
          <label for="order-string">Order string</label>
          <textarea id="order-string" name="order_string" rows="6" required>${orderString}</textarea>
          <label for="login">账户名 Account</label>
          <input id="login" name="login" type="text" value="${buyer?.login ?? ''}" required />
          <label for="password">支付密码 Password</label>
          <input id="password" name="password" type="password" value="${buyer?.password ?? ''}" required />
          <button id="pay" class="primary" type="submit">确认付款 Pay</button>
        </form>
        ${
          result
            ? html`<pre id="app-result" data-result-status="${result.resultStatus}">
resultStatus={${result.resultStatus}};memo={${result.memo}};result={${result.result}}</pre>`
            : ''
        }
      </section>`,
    }),
  )
}

/** The app page's routes. */
export function appPayRoutes(deps: SandboxDeps): Hono {
  const app = new Hono()
  app.get('/app/pay', (c) => appPage(c, deps))
  app.post('/app/pay', async (c) => {
    const body = await c.req.parseBody()
    const field = (name: string) => (typeof body[name] === 'string' ? body[name] : '')
    const result = await payOrderString(deps, field('order_string'), field('login'), field('password'))
    if ((c.req.header('accept') ?? '').includes('application/json')) return c.json(result)
    return appPage(c, deps, result, field('order_string'))
  })
  return app
}
