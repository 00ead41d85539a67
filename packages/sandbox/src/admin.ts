import { Hono } from 'hono'
import * as v from 'valibot'
import { AdminGuard } from './admin-guard.js'
import type { SandboxDeps } from './deps.js'
import { FaultsUpdateSchema } from './faults.js'
import { CASHIER_JS, SANDBOX_CSS } from './views/assets.js'
import { tradeKindLabels } from './openapi-barcode.js'
import { requestLogOf } from './request-log.js'
import { inspectorPage, logPage, tradePage } from './views/inspector.js'
import { pageHeaders } from './views/layout.js'
import { triggerRoutes } from './trigger-routes.js'

const AdvanceSchema = v.strictObject({ seconds: v.pipe(v.number(), v.minValue(0), v.maxValue(10 * 365 * 86_400)) })

/** JSON bodies of admin endpoints are small; anything bigger is refused before parsing. */
const MAX_ADMIN_JSON_BYTES = 16 * 1024

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text()
  if (text.length > MAX_ADMIN_JSON_BYTES) throw new Error('body too large')
  return JSON.parse(text) as unknown
}

/** Admin, fault and inspection endpoints under /_sandbox/. Not part of the real gateway. */
export function adminRoutes(deps: SandboxDeps): Hono {
  const app = new Hono()
  const { store } = deps
  const guard = new AdminGuard()
  app.use('/_sandbox/*', guard.sameOrigin())
  app.route('/', triggerRoutes(deps, guard))

  app.get('/_sandbox/assets/sandbox.css', (c) => {
    c.header('cache-control', 'public, max-age=300')
    return c.body(SANDBOX_CSS, 200, { 'content-type': 'text/css; charset=utf-8' })
  })
  app.get('/_sandbox/assets/cashier.js', (c) => {
    c.header('cache-control', 'public, max-age=300')
    return c.body(CASHIER_JS, 200, { 'content-type': 'text/javascript; charset=utf-8' })
  })

  app.get('/_sandbox/health', (c) => c.json({ ok: true, now: deps.clock.now() }))

  app.get('/_sandbox/trades', (c) => {
    const outTradeNo = c.req.query('out_trade_no')
    const trades = store.listTrades(500).filter((t) => outTradeNo === undefined || t.outTradeNo === outTradeNo)
    return c.json({ trades })
  })

  app.get('/_sandbox/trades/:tradeNo', (c) => {
    const trade = store.tradeByNo(c.req.param('tradeNo'))
    if (!trade) return c.json({ error: 'TRADE_NOT_EXIST' }, 404)
    const notifies = store.notifiesOfTrade(trade.tradeNo).map((n) => ({ ...n, attemptList: store.attemptsOf(n.id) }))
    return c.json({ trade: deps.trades.refresh(trade), notifies })
  })

  app.get('/_sandbox/notifies', (c) => {
    const notifies = store.listNotifies(500).map((n) => ({ ...n, attemptList: store.attemptsOf(n.id) }))
    return c.json({ notifies })
  })

  app.get('/_sandbox/faults', (c) => c.json(deps.faults.current))
  app.post('/_sandbox/faults', async (c) => {
    let body: unknown
    try {
      body = await readJson(c.req.raw)
    } catch {
      return c.json({ error: 'INVALID_JSON' }, 400)
    }
    const parsed = v.safeParse(FaultsUpdateSchema, body)
    if (!parsed.success) return c.json({ error: 'INVALID_FAULTS', message: parsed.issues[0].message }, 400)
    return c.json(deps.faults.update(parsed.output))
  })
  app.delete('/_sandbox/faults', (c) => c.json(deps.faults.reset()))

  app.post('/_sandbox/clock/advance', async (c) => {
    if (!deps.advanceClock) return c.json({ error: 'CLOCK_FIXED' }, 409)
    let body: unknown
    try {
      body = await readJson(c.req.raw)
    } catch {
      return c.json({ error: 'INVALID_JSON' }, 400)
    }
    const parsed = v.safeParse(AdvanceSchema, body)
    if (!parsed.success) return c.json({ error: 'INVALID_ADVANCE', message: parsed.issues[0].message }, 400)
    deps.advanceClock(parsed.output.seconds * 1000)
    await deps.scheduler.idle()
    return c.json({ now: deps.clock.now() })
  })

  app.get('/_sandbox/inspector', (c) => {
    for (const [k, val] of Object.entries(pageHeaders())) c.header(k, val)
    const notifies = store.listNotifies(300).map((n) => ({ ...n, attemptList: store.attemptsOf(n.id) }))
    return c.html(
      inspectorPage({
        trades: store.listTrades(300),
        kindOf: tradeKindLabels(deps),
        notifies,
        faults: deps.faults.current,
        pendingFailures: deps.faults.pendingFailures,
        now: deps.clock.now(),
        csrf: guard.token,
        done: c.req.query('done'),
        autoRefresh: c.req.query('auto') === '1',
        buyers: deps.config.buyers.map((b) => b.login),
      }),
    )
  })

  app.get('/_sandbox/inspector/trades/:tradeNo', (c) => {
    for (const [k, val] of Object.entries(pageHeaders())) c.header(k, val)
    const stored = store.tradeByNo(c.req.param('tradeNo'))
    if (!stored) return c.text('No such trade in this sandbox.', 404)
    const trade = deps.trades.refresh(stored)
    const notifies = store.notifiesOfTrade(trade.tradeNo).map((n) => ({ ...n, attemptList: store.attemptsOf(n.id) }))
    const log = requestLogOf(deps).entries({ outTradeNo: trade.outTradeNo })
    return c.html(
      tradePage({ trade, notifies, log, csrf: guard.token, buyers: deps.config.buyers.map((b) => b.login) }),
    )
  })

  app.get('/_sandbox/inspector/log', (c) => {
    for (const [k, val] of Object.entries(pageHeaders())) c.header(k, val)
    const outTradeNo = c.req.query('out_trade_no')?.trim() || undefined
    const entries = requestLogOf(deps).entries({ outTradeNo })
    return c.html(logPage({ entries, outTradeNo, now: deps.clock.now() }))
  })

  app.get('/_sandbox/log', (c) => {
    const outTradeNo = c.req.query('out_trade_no')?.trim() || undefined
    return c.json({ entries: requestLogOf(deps).entries({ outTradeNo }) })
  })

  return app
}
