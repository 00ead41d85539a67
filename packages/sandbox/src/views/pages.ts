import { html, raw } from 'hono/html'
import { formatBeijingTime } from '@alipay-payment-handler/protocol'
import type { TestBuyer } from '../config.js'
import type { Trade } from '../store.js'
import { ASSET_PATHS, bilingual, layout, type Markup } from './layout.js'

/** Messages the cashier shows after a refused login or payment; keys are stable for tests. */
export const CASHIER_MESSAGES = {
  'bad-login': '账户名或登录密码不正确 · Wrong account name or password.',
  insufficient: '账户余额不足，请更换付款方式 · Insufficient balance: use another account.',
  'wrong-buyer': '此订单指定了其他付款账户 · This order must be paid by another account.',
  'buyer-seller-equal': '买家和卖家不能是同一账户 · Buyer and seller cannot be the same account.',
} as const
export type CashierMessage = keyof typeof CASHIER_MESSAGES

const time = (ms: number) => formatBeijingTime(new Date(ms))

function orderSummary(trade: Trade): Markup {
  return html`<section class="order" aria-label="Order">
    <div class="order-main">
      <h1 id="subject" class="subject">${trade.subject}</h1>
      ${trade.body ? html`<p id="order-body" class="order-body">${trade.body}</p>` : ''}
      <dl class="facts">
        <dt>${bilingual('收款方 Seller')}</dt>
        <dd id="seller">${trade.sellerEmail}</dd>
        <dt>${bilingual('交易号 Trade no.')}</dt>
        <dd id="trade-no">${trade.tradeNo}</dd>
        <dt>${bilingual('订单号 Order no.')}</dt>
        <dd id="out-trade-no">${trade.outTradeNo}</dd>
        ${
          trade.expiresAt !== null
            ? html`<dt>${bilingual('付款截止 Pay before')}</dt>
                <dd id="expires">${time(trade.expiresAt)}</dd>`
            : ''
        }
      </dl>
    </div>
    <div class="amount"><span class="currency">¥</span><span id="amount">${trade.totalFee}</span></div>
  </section>`
}

/** The login form; after a refusal it keeps the account typed and puts the cursor in the password. */
function loginForm(
  action: string,
  hidden: Record<string, string>,
  message: CashierMessage | undefined,
  login = '',
): Markup {
  const retry = message !== undefined && login !== ''

  return html`<form class="pay-form" method="post" action="${action}">
    ${Object.entries(hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}
    ${message ? html`<p class="message" id="message" role="alert" data-message="${message}">${bilingual(CASHIER_MESSAGES[message])}</p>` : ''}
    <label for="login">${bilingual('账户名 Account')}</label>
    <input
      id="login"
      name="login"
      type="text"
      autocomplete="username"
      required
      placeholder="e.g. buyer@demo.example"
      value="${login}"
    />
    <label for="password">${bilingual('支付密码 Password')}</label>
    <input
      id="password"
      name="password"
      type="password"
      autocomplete="current-password"
      required
      ${retry ? raw('autofocus') : ''}
    />
    <button id="pay" class="primary" type="submit">${bilingual('确认付款 Pay')}</button>
  </form>`
}

function buyerHint(buyers: readonly TestBuyer[]): Markup {
  return html`<details class="hint">
    <summary>Test buyers</summary>
    <ul>
      ${buyers.map((b) => html`<li><code>${b.login}</code> / <code>${b.password}</code> (balance ¥${b.balance})</li>`)}
    </ul>
  </details>`
}

/** The desktop or WAP cashier for an unpaid trade. */
export function cashierPage(input: {
  trade: Trade
  desktop: boolean
  qrSvg: string | undefined
  phoneUrl: string
  buyers: readonly TestBuyer[]
  message?: CashierMessage | undefined
  /** The account the buyer typed before a refusal. */
  login?: string | undefined
}): Markup {
  const { trade } = input
  const token = trade.cashierToken
  const qr =
    input.desktop && input.qrSvg
      ? html`<section class="qr" aria-label="Scan to pay">
          <h2>${bilingual('扫码支付 Scan to pay')}</h2>
          <div id="qr-code" class="qr-code" data-url="${input.phoneUrl}">${raw(input.qrSvg)}</div>
          <p>
            Scan with the buyer's phone, or open the
            <a id="phone-link" href="${input.phoneUrl}" target="_blank" rel="noopener">phone page</a>.
          </p>
        </section>`
      : ''
  return layout({
    title: '收银台 Cashier',
    bodyClass: input.desktop ? 'cashier desktop' : 'cashier wap',
    bodyData: { status: `/cashier/${token}/status` },
    head: html`<meta name="alipay-trade-status" content="${trade.status}" />
      <script src="${ASSET_PATHS.js}" defer></script>`,
    body: html`${orderSummary(trade)}
      <div class="panes">
        <section class="login" aria-label="Pay with an account">
          <h2>${bilingual('登录支付宝账户付款 Log in and pay')}</h2>
          ${loginForm(`/cashier/${token}/pay`, {}, input.message, input.login)}
          <form method="post" action="/cashier/${token}/cancel" class="cancel-form">
            <button id="cancel" class="link" type="submit">${bilingual('取消付款，返回商户 Cancel')}</button>
          </form>
          ${buyerHint(input.buyers)}
        </section>
        ${qr}
      </div>`,
  })
}

/** The "buyer's phone" page reached by scanning the cashier's QR code. */
export function phonePage(input: {
  trade: Trade
  message?: CashierMessage | undefined
  buyers: readonly TestBuyer[]
  login?: string | undefined
}) {
  return layout({
    title: '手机支付宝 Phone',
    bodyClass: 'phone',
    head: html`<meta name="alipay-trade-status" content="${input.trade.status}" />`,
    body: html`${orderSummary(input.trade)}
      <section class="login">
        ${loginForm('/phone/pay', { code: input.trade.cashierToken }, input.message, input.login)}${buyerHint(input.buyers)}
      </section>`,
  })
}

/** A final page: paid, cancelled, closed. `next` is an optional link (the signed return URL). */
export function resultPage(input: {
  title: string
  heading: string
  text: string
  trade: Trade
  next?: string | undefined
  nextLabel?: string | undefined
  errorCode?: string | undefined
}): Markup {
  return layout({
    title: input.title,
    bodyClass: 'result',
    head: html`<meta name="alipay-trade-status" content="${input.trade.status}" />${
        input.errorCode ? html`<meta name="alipay-error" content="${input.errorCode}" />` : ''
      }`,
    body: html`<section class="result-box">
      <h1 id="result">${bilingual(input.heading)}</h1>
      <p>${input.text}</p>
      ${orderSummary(input.trade)}
      ${input.next ? html`<p><a id="return" class="button primary" href="${input.next}">${bilingual(input.nextLabel ?? '返回商户 Back to the shop')}</a></p>` : ''}
    </section>`,
  })
}

/** The gateway error page: the code as text and in `<meta name="alipay-error">` (mapi-protocol §12). */
export function errorPage(code: string, field: string | undefined, bare = false): Markup {
  return layout({
    title: '错误 Error',
    bodyClass: 'error',
    head: html`<meta name="alipay-error" content="${code}" />`,
    body: html`<section class="result-box">
      <h1>${bilingual('抱歉，您的操作出现错误 · Sorry, the request failed')}</h1>
      <p>${bilingual('错误代码 Error code:')} <strong id="error-code">${code}</strong></p>
      ${field ? html`<p class="muted">Parameter: <code id="error-field">${field}</code></p>` : ''}
      <p class="muted">See mapi-protocol §13 for what this code means.</p>
      ${
        bare
          ? html`<p id="gateway-help">
              This is the sandbox's gateway endpoint: merchants' servers and the payment app send signed requests here,
              so opened without parameters it answers with an error, as Alipay's does.
              <a class="button primary" href="/_sandbox/inspector">Open the inspector</a> to see every trade, notify and
              gateway call.
            </p>`
          : ''
      }
    </section>`,
  })
}

/** The openapi gateway's HTML error page for page methods (openapi-protocol §10.3). */
export function openapiErrorPage(code: string, subCode: string, subMsg: string): Markup {
  return layout({
    title: '错误 Error',
    bodyClass: 'error',
    head: html`<meta name="alipay-error" content="${subCode}" /> <meta name="alipay-error-code" content="${code}" />`,
    body: html`<section class="result-box">
      <h1>${bilingual('抱歉，您的操作出现错误 · Sorry, the request failed')}</h1>
      <p>${bilingual('错误代码 Error code:')} <strong id="error-code">${subCode}</strong> (${code})</p>
      <p class="muted" id="error-message">${bilingual(subMsg)}</p>
      <p class="muted">See openapi-protocol §4.3 and openapi-protocol §4.4 for what this code means.</p>
    </section>`,
  })
}
