import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Hono, type Context } from 'hono'
import { serveStatic } from '@hono/node-server/serve-static'
import { secureHeaders } from 'hono/secure-headers'
import {
  limitBody,
  refuseCrossSite,
  refuseMisdirectedHost,
  createRateLimits,
  type RateLimitOptions,
  type ServerMetrics,
} from '@alipay-payment-handler/server-runtime'
import { decodeNotify, type DecodedNotify } from '@alipay-payment-handler/protocol'
import {
  cookieValue,
  createOrderAccess,
  bearerToken,
  newOrderViewSecret,
  ORDER_VIEW_HEADER,
  orderViewCookie,
  presentedViewToken,
  sameSecret,
  type AuthorizeOperator,
  type OrderAccess,
} from '@alipay-payment-handler/merchant'
import type { ShopConfig } from '../common/views.js'
import { CartError, PRODUCTS, priceCart, type CartItem, type Product } from './catalogue.js'
import type { CounterDesk } from './counter.js'
import { MERCHANT_PREFIX, ShopError, errorCode, problemFor } from './problem.js'
import type { PayType, ShopOrders } from './shop-orders.js'

/** What the merchant backend is built from. Only main.ts (or the stack) listens. */
export interface MerchantAppDeps {
  orders: ShopOrders
  /** The settings the pages read from /config.json. */
  shopConfig: ShopConfig
  /** The built pages (dist/demo-shop); unset in tests that only call the API. */
  publicDir?: string | undefined
  products?: readonly Product[] | undefined
  log?: ((line: string) => void) | undefined
  /** The shop's public origin(s) when a proxy rewrites Host; same-host requests always pass the CSRF check. */
  allowedOrigins?: readonly string[] | undefined
  /**
   * The `Host` values the shop answers (server-runtime's `hostsOfOrigin`); any other gets 421
   * `misdirected-host`, so a DNS rebinding page never looks same-origin. Unset: every Host (tests).
   */
  hosts?: readonly string[] | undefined
  /**
   * The shop's operator token: the orders page logs in with it (`POST /api/operator/login`, which
   * sets an HttpOnly cookie), and scripts send it as `Authorization: Bearer`. Operators list every
   * order, refund, and reconcile. Without it (and without `authorizeOperator`) nobody can.
   */
  operatorToken?: string | undefined
  /** Decides operators some other way (a staff login); wins over `operatorToken`. */
  authorizeOperator?: AuthorizeOperator | undefined
  /** The buyers' order-view tokens (`createOrderAccess`); unset, a random secret per process. */
  access?: OrderAccess | undefined
  /** Mark the shop's cookies `Secure` (the shop is served over https). */
  secureCookies?: boolean | undefined
  /**
   * Origins the pages may post forms to besides their own (the gateway's, for the mobile route's
   * auto-submitted form); the CSP's `form-action`.
   */
  formActionOrigins?: readonly string[] | undefined
  /** Per client and window; `false` turns rate limiting off (load tests that hammer one route). */
  rateLimits?: { api?: RateLimitOptions; notify?: RateLimitOptions } | false | undefined
  /** The counter (scan the buyer's code); without it the counter routes answer 404. */
  counter?: CounterDesk | undefined
  /** Prometheus metrics, answered at `GET /metrics` to the operator (`Authorization: Bearer`). */
  metrics?: ServerMetrics | undefined
  /** The reverse proxies in front, whose `X-Forwarded-For`/`Forwarded` name the client (rate limits). */
  trustedProxies?: readonly string[] | undefined
  /**
   * Why the shop cannot take orders now (`GET /readyz` answers 503 with it), or undefined when it
   * can. Unset: always ready (tests of the API alone).
   */
  readiness?: (() => Promise<string | undefined>) | undefined
}

// A cart or a PaymentResponse is a few kilobytes; anything far larger is not from our pages.
const MAX_JSON_BYTES = 64 * 1024

const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The probes answer on every Host: an orchestrator calls them on the pod's address, not the
 * shop's name, and they reveal nothing.
 */
const PROBES = /^\/(healthz|readyz)$/

/** The built pages served with a fresh script nonce each time (everything else is a static file). */
const PAGE_PATH = /^\/(?:([a-z][a-z-]*)\.html)?$/

/**
 * The shop's Content Security Policy. Scripts run only with this response's nonce (every
 * `<script>` and module preload of the built pages gets it) and whatever those load
 * (`strict-dynamic`): no `unsafe-inline`, so markup injected into a page never runs, and not even
 * a same-origin `<script src>` gadget does. Fetches and images come from the shop and the payment
 * app (Chromium fetches its manifests and icon for the page); forms go to the shop and the gateway.
 */
export function shopCsp(options: { nonce?: string; appOrigin: string; formActionOrigins?: readonly string[] }): string {
  return [
    "default-src 'self'",
    options.nonce ? `script-src 'nonce-${options.nonce}' 'strict-dynamic'` : "script-src 'none'",
    "style-src 'self'",
    // Chromium loads the payment app's manifest and icon in the page's context, under its CSP.
    `img-src 'self' data: ${options.appOrigin}`,
    `connect-src 'self' ${options.appOrigin}`,
    `form-action 'self'${(options.formActionOrigins ?? []).map((origin) => ` ${origin}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ')
}

/** Adds `nonce` to every script and module preload tag of a built page. */
export function withScriptNonce(html: string, nonce: string): string {
  return html.replace(/<(script|link rel="modulepreload")(?=[\s>])/g, `<$1 nonce="${nonce}"`)
}

/** The cookie the orders page's login sets; its value is the operator token itself, HttpOnly. */
const OPERATOR_COOKIE = 'shop_operator'

/** The order service's pc/mobile aliases name the same two classic routes. */
const PAY_TYPES: Record<string, PayType> = { PRE_PAY: 'PRE_PAY', pc: 'PRE_PAY', WAP_PAY: 'WAP_PAY', mobile: 'WAP_PAY' }

async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const body: unknown = await request.json().catch(() => {
    throw new ShopError('BAD_REQUEST', 'The request body must be JSON.')
  })
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ShopError('BAD_REQUEST', 'The request body must be a JSON object.')
  }
  return body as Record<string, unknown>
}

function cartItems(value: unknown): CartItem[] {
  if (!Array.isArray(value)) throw new CartError('CART_EMPTY', 'The cart is empty.')
  return value.map((item: unknown) => {
    const { productId, quantity } = (item ?? {}) as { productId?: unknown; quantity?: unknown }
    if (typeof productId !== 'string' || typeof quantity !== 'number') {
      throw new ShopError('BAD_REQUEST', 'Each cart line needs a productId and a quantity.')
    }
    return { productId, quantity }
  })
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) throw new ShopError('BAD_REQUEST', '"details" must be an object.')
  const out: Record<string, string> = {}
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item
  return out
}

/**
 * The demo merchant's backend: the shop's API over the order service, the notify receiver and
 * the built pages. The browser is never trusted: the cart is priced here, and an order is paid
 * only after the order service has verified a gateway signature (confirm, notify or check).
 */
export function createMerchantApp(deps: MerchantAppDeps): Hono {
  const { orders } = deps
  const products = deps.products ?? PRODUCTS
  const log = deps.log ?? ((line: string) => console.error(line))
  const access = deps.access ?? createOrderAccess(newOrderViewSecret())
  const operatorToken = deps.operatorToken
  const authorizeOperator: AuthorizeOperator =
    deps.authorizeOperator ??
    ((request) => {
      if (!operatorToken) return false
      const shown = bearerToken(request) ?? cookieValue(request, OPERATOR_COOKIE)
      return shown !== undefined && sameSecret(shown, operatorToken)
    })
  const isOperator = async (request: Request) => (await authorizeOperator(request)) === true
  const operatorOnly = async (request: Request) => {
    if (!(await isOperator(request))) throw new ShopError('OPERATOR_REQUIRED', 'Log in as the shop’s operator first.')
  }
  // The buyer who placed the order (its view token, from the checkout's cookie) or an operator.
  const ownerOrOperator = async (c: Context, orderId: string) => {
    const request = c.req.raw
    if (access.verify(orderId, presentedViewToken(request))) {
      // A checkout link carrying the token (?view=…, sent as the header): the browser keeps it from now on.
      if (request.headers.has(ORDER_VIEW_HEADER)) {
        c.header(
          'set-cookie',
          orderViewCookie('/api/orders', orderId, access.tokenFor(orderId), Boolean(deps.secureCookies)),
        )
      }
      return
    }
    if (await isOperator(request)) return
    throw new ShopError('ORDER_VIEW_DENIED', 'This order was placed in another browser.')
  }
  const secureFlag = deps.secureCookies ? '; Secure' : ''
  const app = new Hono()

  app.onError((error, c) => {
    const code = errorCode(error)
    if (code === 'INTERNAL') log(`${MERCHANT_PREFIX} ${c.req.method} ${c.req.path} failed: ${String(error)}`)
    return problemFor(c, error)
  })
  // No framing anywhere (clickjacking on "Pay"); no COOP, because the polyfill's popup needs `opener`.
  app.use(
    '*',
    secureHeaders({
      xFrameOptions: 'DENY',
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: false,
      strictTransportSecurity: false,
      // nosniff on every answer: problems, notify answers, 404s and the static files alike.
      xContentTypeOptions: true,
    }),
  )
  const metrics = deps.metrics
  if (metrics) app.use('*', metrics.middleware)
  // The pages' CSP (with a nonce) is set where they are served; every other answer runs no script.
  const noScriptCsp = shopCsp({ appOrigin: deps.shopConfig.appOrigin, formActionOrigins: deps.formActionOrigins })
  app.use('*', async (c, next) => {
    await next()
    if (!c.res.headers.has('content-security-policy')) c.res.headers.set('content-security-policy', noScriptCsp)
  })
  // DNS rebinding: the CSRF check below trusts the Host, so the Host must be the shop's own.
  if (deps.hosts) app.use('*', refuseMisdirectedHost({ hosts: deps.hosts, except: PROBES }))
  const limits = deps.rateLimits === false ? undefined : (deps.rateLimits ?? {})
  if (limits) {
    // Notifies are signed and cheap to refuse, but a storm from one address still gets a ceiling.
    const rate = createRateLimits({ keyPrefix: 'shop', trustedProxies: deps.trustedProxies ?? [] })
    app.use('/api/notify', rate.limit('notify', limits.notify ?? { limit: 6000, windowMs: 60_000 }))
    const apiLimit = rate.limit('api', limits.api ?? { limit: 600, windowMs: 60_000 })
    app.use('/api/*', async (c, next) => (c.req.path === '/api/notify' ? next() : apiLimit(c, next)))
  }
  // The API changes money state: only the shop's own pages may call it from a browser (CSRF).
  app.use('/api/*', refuseCrossSite({ allowedOrigins: deps.allowedOrigins ?? [], except: /^\/api\/notify$/ }))
  app.use(
    '/api/*',
    limitBody(MAX_JSON_BYTES, (c) => problemFor(c, new ShopError('BODY_TOO_LARGE', 'Body too large.'))),
  )

  // Liveness: the process answers. Readiness: it can take orders (its databases open and migrated).
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    const reason = await deps.readiness?.()
    c.header('cache-control', 'no-store')
    if (reason === undefined) return c.json({ ok: true })
    c.header('retry-after', '5')
    return problemFor(c, new ShopError('NOT_READY', reason))
  })
  app.get('/config.json', (c) => c.json(deps.shopConfig))
  if (metrics) {
    // Order counts and gateway latency are the merchant's business: Prometheus scrapes with the token.
    app.get('/metrics', async (c) => {
      await operatorOnly(c.req.raw)
      return metrics.respond()
    })
  }
  app.get('/api/products', (c) => c.json(products))

  app.post('/api/checkout', async (c) => {
    const body = await jsonBody(c.req.raw)
    const cart = priceCart(cartItems(body['items']), products)
    const order = await orders.create({ subject: cart.subject, amount: cart.amount })
    // The buyer's browser keeps the token in a cookie only this order's routes receive; scripts get it too.
    const viewToken = access.tokenFor(order.orderId)
    c.header('set-cookie', orderViewCookie('/api/orders', order.orderId, viewToken, Boolean(deps.secureCookies)))
    return c.json({ ...order, viewToken }, 201)
  })

  app.post('/api/operator/login', async (c) => {
    const token = (await jsonBody(c.req.raw))['token']
    if (!operatorToken || typeof token !== 'string' || !sameSecret(token, operatorToken)) {
      throw new ShopError('OPERATOR_TOKEN_WRONG', 'That is not the operator token the shop printed at start.')
    }
    c.header('set-cookie', `${OPERATOR_COOKIE}=${token}; Path=/api; HttpOnly; SameSite=Strict${secureFlag}`)
    return c.json({ operator: true })
  })
  app.post('/api/operator/logout', (c) => {
    c.header('set-cookie', `${OPERATOR_COOKIE}=; Path=/api; HttpOnly; SameSite=Strict; Max-Age=0${secureFlag}`)
    return c.json({ operator: false })
  })

  app.get('/api/orders', async (c) => {
    await operatorOnly(c.req.raw)
    return c.json(await orders.list())
  })

  app.use('/api/orders/:id/*', async (c, next) => {
    const id = c.req.param('id') ?? ''
    if (!ORDER_ID.test(id)) throw new ShopError('ORDER_NOT_EXIST', 'No such order.')
    // Refunds move money back: operators only. Everything else on one order: its buyer too.
    if (c.req.path.endsWith('/refund')) await operatorOnly(c.req.raw)
    else await ownerOrOperator(c, id)
    await next()
  })
  app.get('/api/orders/:id', async (c) => {
    const id = c.req.param('id')
    if (!ORDER_ID.test(id)) throw new ShopError('ORDER_NOT_EXIST', 'No such order.')
    await ownerOrOperator(c, id)
    return c.json(await orders.get(id))
  })
  app.post('/api/orders/:id/payment-data', async (c) => c.json(await orders.paymentData(c.req.param('id'))))
  app.post('/api/orders/:id/pay-url', async (c) => {
    const payType = PAY_TYPES[String((await jsonBody(c.req.raw))['payType'])]
    if (!payType) throw new ShopError('UNKNOWN_PAY_TYPE', 'payType must be PRE_PAY or WAP_PAY.')
    return c.json(await orders.payUrl(c.req.param('id'), payType))
  })
  app.post('/api/orders/:id/confirm', async (c) => {
    const details = stringRecord((await jsonBody(c.req.raw))['details'])
    return c.json(await orders.confirm(c.req.param('id'), details))
  })
  app.post('/api/orders/:id/check', async (c) => c.json(await orders.check(c.req.param('id'))))
  app.post('/api/orders/:id/cancel', async (c) => c.json(await orders.cancel(c.req.param('id'))))
  app.post('/api/orders/:id/refund', async (c) => {
    const amount = (await jsonBody(c.req.raw))['amount']
    if (amount !== undefined && typeof amount !== 'string') {
      throw new ShopError('AMOUNT_INVALID', 'amount must be a decimal string such as "1.00".')
    }
    return c.json(await orders.refund(c.req.param('id'), amount))
  })

  // Reconciliation: the orders page shows the last report and can run one now.
  app.use('/api/reconciliation', async (c, next) => {
    await operatorOnly(c.req.raw)
    await next()
  })
  app.get('/api/reconciliation', async (c) => c.json((await orders.latestReconciliation()) ?? null))
  app.post('/api/reconciliation', async (c) => c.json(await orders.reconcile()))

  // The gateway (or the payment app's relay) posts form-encoded notifies. The answer is the
  // bare text the order service decides: "success" stops the retries, anything else asks again.
  app.post('/api/notify', async (c) => {
    let notify: DecodedNotify
    try {
      // The same decoder as the relay's: the declared charset, which the signature is checked in too.
      notify = decodeNotify(await c.req.text(), c.req.header('content-type'))
    } catch {
      return c.text('fail', 400)
    }
    try {
      return c.text(await orders.notify(notify.params, notify.charset))
    } catch (error) {
      log(`${MERCHANT_PREFIX} notify not processed: ${errorCode(error)}`)
      return c.text('fail', 500)
    }
  })

  // The counter: the cashier scans the buyer's code; the page then follows the payment's stage.
  const counter = deps.counter
  if (counter) {
    app.post('/api/counter/payments', async (c) => {
      const body = await jsonBody(c.req.raw)
      const amount = body['amount']
      if (typeof amount !== 'string') throw new ShopError('AMOUNT_INVALID', 'amount must be a decimal string.')
      return c.json(await counter.start({ amount, authCode: String(body['authCode'] ?? '') }), 202)
    })
    app.get('/api/counter/payments/:id', (c) => c.json(counter.status(c.req.param('id'))))
    app.post('/api/counter/payments/:id/cancel', (c) => c.json(counter.cancel(c.req.param('id'))))
  }

  app.all('/api/*', (c) => problemFor(c, new ShopError('NOT_FOUND', 'No such route.')))

  if (deps.publicDir) {
    const root = deps.publicDir
    app.get('*', async (c, next) => {
      const page = PAGE_PATH.exec(c.req.path)
      if (!page) return next()
      let html: string
      try {
        html = await readFile(join(root, `${page[1] ?? 'index'}.html`), 'utf8')
      } catch {
        return next()
      }
      const nonce = randomBytes(18).toString('base64')
      return c.html(withScriptNonce(html, nonce), 200, {
        'content-security-policy': shopCsp({
          nonce,
          appOrigin: deps.shopConfig.appOrigin,
          formActionOrigins: deps.formActionOrigins,
        }),
        // A nonce is good for one answer only: no cache may hand it out twice.
        'cache-control': 'no-store',
      })
    })
    app.use('/*', serveStatic({ root }))
    app.notFound((c) => c.text('Not found', 404))
  }
  return app
}
