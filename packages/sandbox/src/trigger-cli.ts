#!/usr/bin/env node
import { parseArgs } from 'node:util'

// CLI: `npm run sandbox:trigger -- <command> [args] [--sandbox http://localhost:4300]`.
// Talks to a running sandbox over HTTP (POST /_sandbox/triggers/<command>, JSON).
// Exit codes: 0 done, 1 the sandbox refused (its error code is printed), 2 usage or connection error.

const USAGE = `usage: npm run sandbox:trigger -- <command> [args] [--sandbox URL] [--json]

  pay <out_trade_no> [--buyer LOGIN]      pay as a test buyer (default: the order's buyer, else the first)
  scan <out_trade_no> [--buyer LOGIN]     the buyer scans the QR code and pays on the phone (qrpay)
  close <out_trade_no>                    close an unpaid trade (no notify, like close_trade)
  refund <out_trade_no> [amount] [--reason TEXT]
                                          refund what is left, or part of it (console refund: trade_status_sync)
  finish <out_trade_no>                   end the refund period now: TRADE_FINISHED and its notify
  resend <notify_id>                      deliver a pending or given-up notify now
  replay <notify_id>                      POST the exact bytes of an acknowledged notify again
  fail-next <n> [--mode drop|5xx|timeout|twice]
                                          the next n notify deliveries fail (default: drop)
  clock <+duration>                       fast-forward sandbox time, e.g. +25h, 90m, 3d
  trades [out_trade_no]                   list trades
  notifies                                list notifies and their delivery attempts

  --trade-no      the first argument is a trade_no, not an out_trade_no
  --sandbox URL   default http://localhost:4300 (env SANDBOX_URL)
  --json          print the sandbox's JSON answer`

class UsageError extends Error {}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        sandbox: { type: 'string' },
        buyer: { type: 'string' },
        reason: { type: 'string' },
        mode: { type: 'string' },
        'trade-no': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
    process.exit(2)
  }
})()

const base = (values.sandbox ?? process.env['SANDBOX_URL'] ?? 'http://localhost:4300').replace(/\/+$/, '')
const [command, ...args] = positionals

interface Answer {
  status: number
  body: Record<string, unknown>
}

async function call(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> }
  } catch {
    return { status: response.status, body: { error: 'NOT_A_SANDBOX', message: text.slice(0, 200) } }
  }
}

function need(index: number, name: string): string {
  const value = args[index]
  if (value === undefined || value === '') throw new UsageError(`${command} needs <${name}>`)
  return value
}

function tradeRef(): Record<string, string> {
  const value = need(0, values['trade-no'] ? 'trade_no' : 'out_trade_no')
  return values['trade-no'] ? { trade_no: value } : { out_trade_no: value }
}

type Trade = { tradeNo: string; outTradeNo: string; status: string; totalFee: string; refundedFee: string }
type Notify = { id: number; notifyId: string; kind: string; tradeNo: string | null; state: string; attempts: number }

const tradeLine = (t: Trade) =>
  `${t.outTradeNo}  trade_no=${t.tradeNo}  ${t.status}  total=${t.totalFee}  refunded=${t.refundedFee}`
const notifyLine = (n: Notify) =>
  `${n.notifyId}  ${n.kind}  trade_no=${n.tradeNo ?? '-'}  ${n.state}  attempts=${n.attempts}`

/** What to print for a successful trigger. */
function describe(body: Record<string, unknown>): string {
  const lines: string[] = []
  if (body['trade']) lines.push(tradeLine(body['trade'] as Trade))
  if (body['returnUrl']) lines.push(`return: ${String(body['returnUrl'])}`)
  if (body['amount']) lines.push(`refunded now: ${String(body['amount'])}`)
  if (body['notify']) lines.push(notifyLine(body['notify'] as Notify))
  if ('answer' in body)
    lines.push(`merchant answered HTTP ${String(body['status'])}: ${JSON.stringify(body['answer'])}`)
  if (body['mode']) lines.push(`next ${String(body['remaining'])} notify deliveries: ${String(body['mode'])}`)
  if (body['now']) lines.push(`sandbox time is now ${new Date(Number(body['now'])).toISOString()}`)
  return lines.join('\n') || 'done'
}

async function run(): Promise<number> {
  if (values.help || command === undefined) {
    console.log(USAGE)
    return command === undefined && !values.help ? 2 : 0
  }
  let answer: Answer
  switch (command) {
    case 'pay':
    case 'scan':
      answer = await call('POST', `/_sandbox/triggers/${command}`, { ...tradeRef(), buyer: values.buyer })
      break
    case 'close':
    case 'finish':
      answer = await call('POST', `/_sandbox/triggers/${command}`, tradeRef())
      break
    case 'refund':
      answer = await call('POST', '/_sandbox/triggers/refund', {
        ...tradeRef(),
        amount: args[1],
        reason: values.reason,
      })
      break
    case 'resend':
    case 'replay':
      answer = await call('POST', `/_sandbox/triggers/${command}`, { notify_id: need(0, 'notify_id') })
      break
    case 'fail-next': {
      const count = Number(need(0, 'n'))
      if (!Number.isInteger(count) || count < 0) throw new UsageError('fail-next needs a whole number')
      answer = await call('POST', '/_sandbox/triggers/fail-next', { count, mode: values.mode ?? 'drop' })
      break
    }
    case 'clock':
      answer = await call('POST', '/_sandbox/triggers/clock', { duration: need(0, '+duration') })
      break
    case 'trades': {
      const query = args[0] ? `?out_trade_no=${encodeURIComponent(args[0])}` : ''
      answer = await call('GET', `/_sandbox/trades${query}`)
      if (answer.status === 200 && !values.json) {
        const trades = answer.body['trades'] as Trade[]
        console.log(trades.length === 0 ? 'no trades' : trades.map(tradeLine).join('\n'))
        return 0
      }
      break
    }
    case 'notifies':
      answer = await call('GET', '/_sandbox/notifies')
      if (answer.status === 200 && !values.json) {
        const notifies = answer.body['notifies'] as Notify[]
        console.log(notifies.length === 0 ? 'no notifies' : notifies.map(notifyLine).join('\n'))
        return 0
      }
      break
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
  if (values.json) console.log(JSON.stringify(answer.body, null, 2))
  if (answer.status >= 200 && answer.status < 300) {
    if (!values.json) console.log(describe(answer.body))
    return 0
  }
  console.error(`${String(answer.body['error'] ?? answer.status)}: ${String(answer.body['message'] ?? '')}`)
  return 1
}

try {
  process.exitCode = await run()
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`)
  } else {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ''
    console.error(
      `cannot reach the sandbox at ${base}: ${error instanceof Error ? error.message : String(error)}${cause}`,
    )
  }
  process.exitCode = 2
}
