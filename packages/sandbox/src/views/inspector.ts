import { html } from 'hono/html'
import { formatBeijingTime } from '@alipay-payment-handler/protocol'
import { FAIL_MODES, type Faults, type FailMode } from '../faults.js'
import type { LogEntry } from '../request-log.js'
import type { Notify, NotifyAttempt, Trade } from '../store.js'
import { layout, type Markup } from './layout.js'

const t = (ms: number | null) => (ms === null ? '' : formatBeijingTime(new Date(ms)))

/** A time in a narrow column: the date over the time of day, neither ever broken. */
function when(ms: number | null): Markup {
  if (ms === null) return html``
  const [date, time] = t(ms).split(' ')
  return html`${date}<span class="sub">${time}</span>`
}

/** A one-button form POSTing to a trigger with the page's CSRF token. */
function button(
  csrf: string,
  trigger: string,
  label: string,
  fields: Record<string, string>,
  extra: Markup | string = '',
): Markup {
  return html`<form class="trigger" method="post" action="/_sandbox/triggers/${trigger}">
    <input type="hidden" name="csrf" value="${csrf}" />${Object.entries(fields).map(
      ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
    )}${extra}<button type="submit" data-trigger="${trigger}">${label}</button>
  </form>`
}

/** The buttons of one trade row: what a buyer, the console or time can do to it now. */
function tradeActions(tr: Trade, csrf: string, buyers: readonly string[]): Markup {
  const ref = { trade_no: tr.tradeNo }
  if (tr.status === 'WAIT_BUYER_PAY') {
    // One buyer list for both ways of paying: the Scan button posts the same form to its own trigger.
    const choose = html`<select name="buyer" aria-label="buyer">
        ${buyers.map((b) => html`<option value="${b}">${b}</option>`)}
      </select>
      <button type="submit" formaction="/_sandbox/triggers/scan" data-trigger="scan">Scan QR</button>`
    return html`${button(csrf, 'pay', 'Pay', ref, choose)}${button(csrf, 'close', 'Close', ref)}`
  }
  if (tr.status === 'TRADE_SUCCESS') {
    const amount = html`<input name="amount" size="7" placeholder="all" aria-label="refund amount" />`
    return html`${button(csrf, 'refund', 'Refund', ref, amount)}${button(csrf, 'finish', 'Finish', ref)}`
  }
  return html``
}

/** The inspector's pages, one link each; `current` is marked for assistive tech. */
function tabs(current: 'trades' | 'log' | 'trade'): Markup {
  const link = (href: string, label: string, here: boolean) =>
    html`<a href="${href}" ${here ? html`aria-current="page"` : ''}>${label}</a>`
  return html`<nav class="tabs" aria-label="Inspector">
    ${link('/_sandbox/inspector', 'Trades and notifies', current === 'trades')}
    ${link('/_sandbox/inspector/log', 'Request log', current === 'log')}
  </nav>`
}

const tradeHref = (tr: { tradeNo: string }) => `/_sandbox/inspector/trades/${encodeURIComponent(tr.tradeNo)}`

/** Parameters as a definition list: every key, every value, as text. */
function paramList(params: Record<string, string>): Markup {
  return html`<dl class="params">
    ${Object.entries(params).map(
      ([k, v]) =>
        html`<dt>${k}</dt>
          <dd>${v}</dd>`,
    )}
  </dl>`
}

/** One entry of the request log: a gateway call or a notify attempt. */
function logEntry(entry: LogEntry, open: boolean): Markup {
  const expanded = open ? html` open` : ''
  if (entry.type === 'call') {
    return html`<details class="log-entry log-call" ${expanded}>
      <summary>
        ${t(entry.at)} · <strong>${entry.service || '(no service)'}</strong>
        ${entry.outTradeNo ? html` · order <span class="id">${entry.outTradeNo}</span>` : ''} · signature
        ${entry.signCheck} · HTTP ${entry.status}
      </summary>
      <h3>Parameters</h3>
      ${paramList(entry.params)}
      <h3>Answer</h3>
      <pre class="answer">${entry.answer}</pre>
    </details>`
  }
  return html`<details class="log-entry log-notify" ${expanded}>
    <summary>
      ${t(entry.at)} · <strong>notify ${entry.kind}</strong> attempt ${entry.attemptNo} to
      <span class="wrap">${entry.url}</span> · <span class="outcome-${entry.outcome}">${entry.outcome}</span> · HTTP
      ${entry.status ?? '—'}
    </summary>
    <p class="muted">
      Signed by the sandbox (${entry.signType}) on every attempt; the merchant checks it and may ask notify_verify,
      which shows here as a call. notify_id <span class="id">${entry.notifyId}</span>
    </p>
    <h3>Parameters</h3>
    ${paramList(entry.params)}
    <h3>Answer</h3>
    <pre class="answer">${entry.answer ?? ''}${entry.error ? ` (${entry.error})` : ''}</pre>
  </details>`
}

/** `open`: entries start unfolded (one order's log is short enough to read at once). */
function logList(entries: readonly LogEntry[], open = false): Markup {
  return html`<div id="log">
    ${entries.length === 0 ? html`<p class="muted">Nothing yet.</p>` : entries.map((e) => logEntry(e, open))}
  </div>`
}

function attemptsList(attempts: readonly NotifyAttempt[]): Markup {
  if (attempts.length === 0) return html`none yet`
  return html`<ol>
    ${attempts.map(
      (a) =>
        html`<li>
          <span class="outcome-${a.outcome}">${a.outcome}</span> ${t(a.at)} · HTTP
          ${a.status ?? '—'}${a.bodyExcerpt !== null ? html` · <code>${JSON.stringify(a.bodyExcerpt)}</code>` : ''}${a.error ? html` · ${a.error}` : ''}
        </li>`,
    )}
  </ol>`
}

/** The inspector: every trade, every notify and every delivery attempt with its answer. */
export function inspectorPage(input: {
  trades: readonly Trade[]
  notifies: readonly (Notify & { attemptList: readonly NotifyAttempt[] })[]
  faults: Faults
  pendingFailures?: { mode: FailMode; remaining: number } | undefined
  now: number
  /** The token every trigger form carries. */
  csrf: string
  /** The outcome of the trigger that led here. */
  done?: string | undefined
  /** Reload every 5 s (`?auto=1`); off by default so the trigger forms keep what is typed. */
  autoRefresh?: boolean | undefined
  /** Test buyer logins offered by the Pay and Scan buttons. */
  buyers?: readonly string[] | undefined
  /** A trade's kind when it says more than its service (barcode with its buyer code, app pay). */
  kindOf?: ((trade: Trade) => string) | undefined
}): Markup {
  const { csrf } = input
  const buyers = input.buyers ?? []
  return layout({
    title: 'Inspector',
    bodyClass: 'inspector',
    head: input.autoRefresh ? html`<meta http-equiv="refresh" content="5" />` : undefined,
    body: html`${tabs('trades')}
      <p class="muted">
        Sandbox time ${t(input.now)} (Beijing). <a href="/_sandbox/inspector">Refresh</a> ·
        <a href="/_sandbox/inspector?auto=1">refresh every 5 s</a>. JSON:
        <a href="/_sandbox/trades">/_sandbox/trades</a>, <a href="/_sandbox/notifies">/_sandbox/notifies</a>,
        <a href="/_sandbox/faults">/_sandbox/faults</a>.
      </p>
      ${input.done ? html`<p id="trigger-result" class="message" role="status">${input.done}</p>` : ''}
      <h2>Triggers</h2>
      <div id="triggers">
        ${button(
          csrf,
          'fail-next',
          'Make the next notifies fail',
          {},
          html`<input name="count" size="3" value="1" aria-label="how many" />
            <select name="mode" aria-label="mode">
              ${FAIL_MODES.map((m) => html`<option value="${m}">${m}</option>`)}
            </select>`,
        )}
        ${button(
          csrf,
          'clock',
          'Fast-forward the clock',
          {},
          html`<input name="duration" size="6" value="25h" aria-label="duration" />`,
        )}
        <span class="muted" id="pending-failures"
          >${
            input.pendingFailures
              ? `next ${input.pendingFailures.remaining} deliveries: ${input.pendingFailures.mode}`
              : 'no one-shot failures pending'
          }</span
        >
      </div>
      <details class="faults">
        <summary>Faults now in force</summary>
        <pre id="faults">${JSON.stringify(input.faults, null, 2)}</pre>
      </details>
      <h2>Trades</h2>
      <table id="trades">
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Status</th>
            <th scope="col">Amount</th>
            <th scope="col">Created (Beijing)</th>
            <th scope="col">Triggers</th>
          </tr>
        </thead>
        <tbody>
          ${input.trades.map(
            (tr) =>
              html`<tr>
                <td class="wrap">
                  <a class="trade-link id" href="${tradeHref(tr)}">${tr.outTradeNo}</a>
                  <span class="sub">${tr.subject}</span>
                  <span class="sub id" title="trade_no">${tr.tradeNo}</span>
                  <span class="sub" data-kind="${input.kindOf?.(tr) ?? tr.service}"
                    >${input.kindOf?.(tr) ?? tr.service}</span
                  >
                </td>
                <td class="status">
                  ${tr.status}${tr.buyerEmail ? html`<span class="sub">${tr.buyerEmail}</span>` : ''}
                </td>
                <td class="nowrap">
                  ${tr.totalFee}${tr.refundedFee !== '0.00' ? html`<span class="sub">refunded ${tr.refundedFee}</span>` : ''}
                </td>
                <td class="nowrap">${when(tr.createdAt)}</td>
                <td>${tradeActions(tr, csrf, buyers)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Notifies</h2>
      <table id="notifies">
        <thead>
          <tr>
            <th scope="col">Notify</th>
            <th scope="col">Trade</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Next</th>
            <th scope="col">Triggers</th>
          </tr>
        </thead>
        <tbody>
          ${input.notifies.map(
            (n) =>
              html`<tr>
                <td>
                  #${n.id} ${n.kind}<span class="sub id" title="notify_id">${n.notifyId}</span>
                  <span class="sub wrap">${n.url}</span>
                </td>
                <td>
                  ${n.tradeNo ? html`<a class="id" href="${tradeHref({ tradeNo: n.tradeNo })}">${n.tradeNo}</a>` : ''}
                </td>
                <td class="status state-${n.state}">${n.state}</td>
                <td class="wrap">${attemptsList(n.attemptList)}</td>
                <td class="nowrap">${n.state === 'pending' || n.state === 'held' ? when(n.nextAttemptAt) : ''}</td>
                <td class="nowrap">
                  ${n.state === 'delivered' ? '' : button(csrf, 'resend', 'Resend', { notify_id: n.notifyId })}
                  ${n.lastBody !== null ? button(csrf, 'replay', 'Replay', { notify_id: n.notifyId }) : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  })
}

/** One trade: its facts, the triggers that apply now, its notifies, and every call and attempt about it. */
export function tradePage(input: {
  trade: Trade
  notifies: readonly (Notify & { attemptList: readonly NotifyAttempt[] })[]
  log: readonly LogEntry[]
  csrf: string
  buyers: readonly string[]
}): Markup {
  const tr = input.trade
  const facts: [string, string | null][] = [
    ['out_trade_no', tr.outTradeNo],
    ['trade_no', tr.tradeNo],
    ['status', tr.status],
    ['service', tr.service],
    ['sign_type', tr.signType],
    ['total_fee', tr.totalFee],
    ['refunded', tr.refundedFee],
    ['subject', tr.subject],
    ['body', tr.body],
    ['seller', tr.sellerEmail],
    ['buyer', tr.buyerEmail],
    ['notify_url', tr.notifyUrl],
    ['return_url', tr.returnUrl],
    ['show_url', tr.showUrl],
    ['created', t(tr.createdAt)],
    ['paid', t(tr.paidAt)],
    ['closed', t(tr.closedAt)],
    ['expires', t(tr.expiresAt)],
  ]
  return layout({
    title: `Trade ${tr.outTradeNo}`,
    bodyClass: 'inspector',
    body: html`${tabs('trade')}
      <h1 class="subject">Order <span class="id">${tr.outTradeNo}</span></h1>
      <p>
        <a href="/cashier/${tr.cashierToken}">Open its cashier</a> ·
        <a href="/_sandbox/inspector/log?out_trade_no=${encodeURIComponent(tr.outTradeNo)}">its log alone</a>
      </p>
      <div id="trade-triggers">${tradeActions(tr, input.csrf, input.buyers)}</div>
      <h2>Facts (Beijing time)</h2>
      <dl class="params" id="trade-facts">
        ${facts
          .filter(([, v]) => v !== null && v !== '')
          .map(
            ([k, v]) =>
              html`<dt>${k}</dt>
                <dd>${v}</dd>`,
          )}
      </dl>
      <h2>Notifies</h2>
      ${
        input.notifies.length === 0
          ? html`<p class="muted">None yet.</p>`
          : input.notifies.map(
              (n) =>
                html`<section class="log-entry">
                  <h3>#${n.id} ${n.kind} · <span class="state-${n.state}">${n.state}</span></h3>
                  <p class="muted">
                    notify_id <span class="id">${n.notifyId}</span> to <span class="wrap">${n.url}</span>
                  </p>
                  ${paramList(JSON.parse(n.params) as Record<string, string>)} ${attemptsList(n.attemptList)}
                </section>`,
            )
      }
      <h2>Calls and notify attempts</h2>
      ${logList(input.log)}`,
  })
}

/** The request log: every gateway call and every notify attempt, newest first, filterable by order. */
export function logPage(input: { entries: readonly LogEntry[]; outTradeNo: string | undefined; now: number }): Markup {
  return layout({
    title: 'Request log',
    bodyClass: 'inspector',
    body: html`${tabs('log')}
      <form class="filter" id="filter" method="get" action="/_sandbox/inspector/log" role="search">
        <label for="filter-order">Order (out_trade_no)</label>
        <input id="filter-order" name="out_trade_no" value="${input.outTradeNo ?? ''}" size="28" />
        <button type="submit">Filter</button>
        ${input.outTradeNo ? html`<a href="/_sandbox/inspector/log">show all</a>` : ''}
      </form>
      <p class="muted">
        Sandbox time ${t(input.now)} (Beijing). Newest first; open an entry for its parameters and answer.
      </p>
      ${logList(input.entries, input.outTradeNo !== undefined)}`,
  })
}
