import { html } from 'hono/html'
import { formatBeijingTime } from '../../protocol/index'
import type { Faults } from '../faults'
import type { Notify, NotifyAttempt, Trade } from '../store'
import { layout, type Markup } from './layout'

const t = (ms: number | null) => (ms === null ? '' : formatBeijingTime(new Date(ms)))

/** The inspector: every trade, every notify and every delivery attempt with its answer. */
export function inspectorPage(input: {
  trades: readonly Trade[]
  notifies: readonly (Notify & { attemptList: readonly NotifyAttempt[] })[]
  faults: Faults
  now: number
}): Markup {
  return layout({
    title: 'Inspector',
    bodyClass: 'inspector',
    head: html`<meta http-equiv="refresh" content="5" />`,
    body: html`<p class="muted">
        Sandbox time ${t(input.now)} (Beijing). Refreshes every 5 s. JSON:
        <a href="/_sandbox/trades">/_sandbox/trades</a>, <a href="/_sandbox/notifies">/_sandbox/notifies</a>,
        <a href="/_sandbox/faults">/_sandbox/faults</a>.
      </p>
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
                <td>${tr.service}</td>
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
              </tr>`,
          )}
        </tbody>
      </table>`,
  })
}
