import { html } from 'hono/html'
import { formatBeijingTime } from '@alipay-payment-handler/protocol'
import { FAIL_MODES, type Faults, type FailMode } from '../faults.js'
import type { Notify, NotifyAttempt, Trade } from '../store.js'
import { layout, type Markup } from './layout.js'

const t = (ms: number | null) => (ms === null ? '' : formatBeijingTime(new Date(ms)))

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
    const choose = html`<select name="buyer" aria-label="buyer">
      ${buyers.map((b) => html`<option value="${b}">${b}</option>`)}
    </select>`
    return html`${button(csrf, 'pay', 'Pay', ref, choose)}${button(csrf, 'scan', 'Scan QR', ref, choose)}${button(
      csrf,
      'close',
      'Close',
      ref,
    )}`
  }
  if (tr.status === 'TRADE_SUCCESS') {
    const amount = html`<input name="amount" size="7" placeholder="all" aria-label="refund amount" />`
    return html`${button(csrf, 'refund', 'Refund', ref, amount)}${button(csrf, 'finish', 'Finish', ref)}`
  }
  return html``
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
    body: html`<p class="muted">
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
      <h2>Faults</h2>
      <pre id="faults">${JSON.stringify(input.faults, null, 2)}</pre>
      <h2>Trades</h2>
      <table id="trades">
        <thead>
          <tr>
            <th>trade_no</th>
            <th>out_trade_no</th>
            <th>status</th>
            <th>amount</th>
            <th>refunded</th>
            <th>subject</th>
            <th>buyer</th>
            <th>created</th>
            <th>paid</th>
            <th>closed</th>
            <th>sign_type</th>
            <th>service</th>
            <th>triggers</th>
          </tr>
        </thead>
        <tbody>
          ${input.trades.map(
            (tr) =>
              html`<tr>
                <td><a href="/cashier/${tr.cashierToken}">${tr.tradeNo}</a></td>
                <td>${tr.outTradeNo}</td>
                <td>${tr.status}</td>
                <td>${tr.totalFee}</td>
                <td>${tr.refundedFee}</td>
                <td>${tr.subject}</td>
                <td>${tr.buyerEmail ?? ''}</td>
                <td>${t(tr.createdAt)}</td>
                <td>${t(tr.paidAt)}</td>
                <td>${t(tr.closedAt)}</td>
                <td>${tr.signType}</td>
                <td data-kind="${input.kindOf?.(tr) ?? tr.service}">${input.kindOf?.(tr) ?? tr.service}</td>
                <td>${tradeActions(tr, csrf, buyers)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Notifies</h2>
      <table id="notifies">
        <thead>
          <tr>
            <th>#</th>
            <th>notify_id</th>
            <th>type</th>
            <th>trade_no</th>
            <th>url</th>
            <th>state</th>
            <th>attempts</th>
            <th>next</th>
            <th>triggers</th>
          </tr>
        </thead>
        <tbody>
          ${input.notifies.map(
            (n) =>
              html`<tr>
                <td>${n.id}</td>
                <td><code>${n.notifyId}</code></td>
                <td>${n.kind}</td>
                <td>${n.tradeNo ?? ''}</td>
                <td>${n.url}</td>
                <td class="state-${n.state}">${n.state}</td>
                <td>
                  ${
                    n.attemptList.length === 0
                      ? 'none yet'
                      : html`<ol>
                          ${n.attemptList.map(
                            (a) =>
                              html`<li>
                                <span class="outcome-${a.outcome}">${a.outcome}</span> ${t(a.at)} · HTTP
                                ${a.status ?? '—'}${a.bodyExcerpt !== null ? html` · <code>${JSON.stringify(a.bodyExcerpt)}</code>` : ''}${a.error ? html` · ${a.error}` : ''}
                              </li>`,
                          )}
                        </ol>`
                  }
                </td>
                <td>${n.state === 'pending' || n.state === 'held' ? t(n.nextAttemptAt) : ''}</td>
                <td>
                  ${n.state === 'delivered' ? '' : button(csrf, 'resend', 'Resend', { notify_id: n.notifyId })}
                  ${n.lastBody !== null ? button(csrf, 'replay', 'Replay', { notify_id: n.notifyId }) : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  })
}
