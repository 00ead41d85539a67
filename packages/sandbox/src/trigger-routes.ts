import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import type { AdminGuard } from './admin-guard.js'
import type { SandboxDeps } from './deps.js'
import { FAIL_MODES } from './faults.js'
import { fail, parseDuration, Triggers, type TriggerResult } from './triggers.js'

/** Trigger bodies are tiny; anything bigger is refused before parsing. */
const MAX_TRIGGER_BODY_BYTES = 8 * 1024

const text = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128))
const TradeSchema = v.object({ out_trade_no: v.optional(text), trade_no: v.optional(text) })
const PaySchema = v.object({ ...TradeSchema.entries, buyer: v.optional(text) })
const RefundSchema = v.object({ ...TradeSchema.entries, amount: v.optional(text), reason: v.optional(v.string()) })
const NotifySchema = v.object({ notify_id: text })
const FailNextSchema = v.object({
  count: v.pipe(v.unknown(), v.transform(Number), v.integer(), v.minValue(0), v.maxValue(100)),
  mode: v.optional(v.picklist(FAIL_MODES), 'drop'),
})
const ClockSchema = v.object({ duration: v.optional(text), seconds: v.optional(v.number()) })

type Input = { kind: 'json' | 'form'; body: Record<string, unknown> }

async function readInput(c: Context, guard: AdminGuard): Promise<Input | { error: string; status: 400 | 403 }> {
  const raw = await c.req.text()
  if (raw.length > MAX_TRIGGER_BODY_BYTES) return { error: 'BODY_TOO_LARGE', status: 400 }
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') {
    const body: Record<string, unknown> = {}
    for (const [k, value] of new URLSearchParams(raw)) if (value !== '') body[k] = value
    // A form comes from the inspector page; it must carry the page's token.
    if (!guard.checkFormToken(body['csrf'] as string | undefined)) return { error: 'CSRF_TOKEN_INVALID', status: 403 }
    return { kind: 'form', body }
  }
  if (type !== 'application/json') return { error: 'UNSUPPORTED_CONTENT_TYPE', status: 400 }
  try {
    const body = raw === '' ? {} : (JSON.parse(raw) as unknown)
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'INVALID_JSON', status: 400 }
    return { kind: 'json', body: body as Record<string, unknown> }
  } catch {
    return { error: 'INVALID_JSON', status: 400 }
  }
}

/** One-line summary of a trigger's outcome for the inspector's banner. */
function summary(name: string, result: TriggerResult<object>): string {
  if (!result.ok) return `${name}: ${result.error} — ${result.message}`
  const r = result as Record<string, unknown>
  const trade = r['trade'] as { outTradeNo: string; status: string } | undefined
  if (trade) return `${name}: ${trade.outTradeNo} is ${trade.status}`
  const notify = r['notify'] as { notifyId: string; state: string } | undefined
  if (notify)
    return `${name}: notify ${notify.notifyId} ${'status' in r ? `answered HTTP ${String(r['status'])}` : notify.state}`
  return `${name}: done`
}

/**
 * `POST /_sandbox/triggers/<name>`: JSON (`application/json`) for scripts and the CLI, or a form
 * with the inspector's token, answered with a 303 back to the inspector.
 */
export function triggerRoutes(deps: SandboxDeps, guard: AdminGuard): Hono {
  const app = new Hono()
  const triggers = new Triggers(deps)

  const route = <S extends v.GenericSchema>(
    name: string,
    schema: S,
    run: (input: v.InferOutput<S>) => Promise<TriggerResult<object>> | TriggerResult<object>,
  ) => {
    app.post(`/_sandbox/triggers/${name}`, async (c) => {
      const input = await readInput(c, guard)
      if ('error' in input) return c.json({ ok: false, error: input.error }, input.status)
      const parsed = v.safeParse(schema, input.body)
      const result: TriggerResult<object> = parsed.success
        ? await run(parsed.output)
        : fail(
            400,
            'INVALID_TRIGGER',
            `${parsed.issues[0].path?.map((p) => String(p.key)).join('.') ?? 'body'}: ${parsed.issues[0].message}`,
          )
      if (input.kind === 'form')
        return c.redirect(`/_sandbox/inspector?done=${encodeURIComponent(summary(name, result))}`, 303)
      if (!result.ok) return c.json(result, result.status)
      return c.json(result)
    })
  }

  const ref = (input: { out_trade_no?: string | undefined; trade_no?: string | undefined }) => ({
    outTradeNo: input.out_trade_no,
    tradeNo: input.trade_no,
  })

  route('pay', PaySchema, (input) => triggers.pay(ref(input), input.buyer, 'cashier'))
  route('scan', PaySchema, (input) => triggers.pay(ref(input), input.buyer, 'qrpay'))
  route('close', TradeSchema, (input) => triggers.close(ref(input)))
  route('refund', RefundSchema, (input) => triggers.refund(ref(input), input.amount, input.reason))
  route('finish', TradeSchema, (input) => triggers.finish(ref(input)))
  route('resend', NotifySchema, (input) => triggers.resend(input.notify_id))
  route('replay', NotifySchema, (input) => triggers.replay(input.notify_id))
  route('fail-next', FailNextSchema, (input) => triggers.failNext(input.count, input.mode))
  route('clock', ClockSchema, (input) => {
    const seconds = input.seconds ?? (input.duration !== undefined ? parseDuration(input.duration) : undefined)
    if (seconds === undefined || !(seconds >= 0) || seconds > 10 * 365 * 86_400)
      return fail(400, 'INVALID_TRIGGER', 'give a duration like 25h, 90m or 3d')
    return triggers.advanceClock(seconds)
  })

  app.get('/_sandbox/triggers/fail-next', (c) => c.json({ pending: deps.faults.pendingFailures ?? null }))
  return app
}
