/** The sandbox stylesheet: plain CSS, served from the sandbox origin so the CSP can forbid inline styles. */
export const SANDBOX_CSS = `
/* Every text colour is at least 4.5:1 on its background (WCAG AA). */
:root { --blue: #0958d9; --ink: #1f2329; --muted: #646a73; --line: #e5e6eb; --bg: #f5f6f7; --ok: #007a52; --bad: #b42318; --warn: #ad4e00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "PingFang SC", "Microsoft YaHei", "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
.bar { display: flex; align-items: center; gap: 12px; padding: 12px 24px; background: #fff; border-bottom: 1px solid var(--line); }
.logo { font-weight: 700; color: var(--blue); font-size: 20px; }
.bar-title { color: var(--muted); }
.badge { margin-left: auto; font-size: 12px; font-weight: 700; letter-spacing: .08em; color: var(--ink); background: #fa8c16; border-radius: 4px; padding: 2px 8px; }
main { max-width: 960px; margin: 24px auto; padding: 0 16px; }
.foot { text-align: center; color: var(--muted); font-size: 12px; margin: 32px 0; }
a { color: var(--blue); }
.order { display: flex; justify-content: space-between; gap: 24px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; }
.subject { font-size: 18px; margin: 0 0 4px; word-break: break-word; }
.order-body { color: var(--muted); margin: 0 0 8px; word-break: break-word; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0 0; font-size: 13px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; word-break: break-all; }
.amount { font-size: 32px; font-weight: 700; color: #f5222d; white-space: nowrap; }
.currency { font-size: 20px; margin-right: 2px; }
.panes { display: flex; gap: 24px; margin-top: 24px; align-items: flex-start; }
.panes > section { flex: 1; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; }
h2 { font-size: 16px; margin: 0 0 16px; }
.pay-form { display: grid; gap: 6px; max-width: 360px; }
.pay-form label { font-size: 13px; color: var(--muted); margin-top: 6px; }
input[type=text], input[type=password] { font: inherit; padding: 9px 12px; border: 1px solid var(--line); border-radius: 6px; }
input::placeholder { color: var(--muted); font-style: italic; }
input:focus { outline: 2px solid var(--blue); outline-offset: -1px; }
button, .button { font: inherit; cursor: pointer; border-radius: 6px; padding: 10px 16px; border: 1px solid var(--line); background: #fff; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: var(--blue); border-color: var(--blue); color: #fff; margin-top: 12px; }
button.link { border: 0; background: none; color: var(--muted); padding: 8px 0; text-decoration: underline; }
.message { color: var(--bad); background: #fff1f0; border: 1px solid #ffccc7; padding: 8px 12px; border-radius: 6px; margin: 0 0 8px; }
.qr { text-align: center; }
.qr-code svg { width: 220px; height: 220px; }
.hint { margin-top: 16px; color: var(--muted); font-size: 13px; }
.result-box { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 24px; }
.result-box .order { border: 0; padding: 16px 0 0; }
.muted { color: var(--muted); }
body.phone main { max-width: 420px; }
body.phone .order { flex-direction: column; }
body.wap .panes { flex-direction: column; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #fafafa; }
form.trigger { display: inline-flex; gap: 4px; align-items: center; margin: 2px 6px 2px 0; }
form.trigger button { padding: 3px 8px; font-size: 12px; white-space: nowrap; }
form.trigger select, form.trigger input { font-size: 12px; max-width: 150px; }
#triggers { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.state-delivered, .outcome-success { color: var(--ok); font-weight: 600; }
.state-failed, .outcome-failure { color: var(--bad); font-weight: 600; }
.outcome-dropped, .state-held { color: var(--warn); font-weight: 600; }
@media (max-width: 720px) { .panes { flex-direction: column; } }
/* Small windows (Chrome's payment window is 608×550): a compact summary and the login form first, so
   the Pay button shows without scrolling; the QR pane follows below. */
@media (max-width: 720px), (max-height: 640px) {
  .bar { padding: 8px 16px; }
  .logo { font-size: 17px; }
  main { margin: 10px auto; }
  .order { padding: 10px 16px; gap: 12px; }
  .subject { font-size: 16px; margin: 0; }
  .order-body { margin: 0 0 4px; font-size: 13px; }
  .facts { font-size: 12px; line-height: 1.35; margin-top: 4px; }
  .amount { font-size: 24px; }
  .panes { margin-top: 10px; gap: 10px; }
  .panes > section { padding: 10px 16px; }
  .cashier h2 { font-size: 15px; margin: 0 0 4px; }
  .pay-form { gap: 2px; }
  .pay-form label { margin-top: 2px; }
  input[type=text], input[type=password] { padding: 6px 10px; }
  button.primary { margin-top: 8px; padding: 8px 16px; }
  .cashier .login .hint { margin-top: 4px; }
  .cashier .foot { margin: 16px 0; }
}
@media (max-width: 480px) { .order { flex-direction: column; } }
/* The inspector: identifiers never break mid-word; long values wrap at their own separators. */
.inspector main { max-width: 1200px; }
.inspector .id, .inspector code.id { white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.inspector .wrap { overflow-wrap: break-word; }
.inspector .nowrap, .inspector td.status { white-space: nowrap; }
.inspector td ol { margin: 0; padding-left: 18px; }
.inspector details.faults summary { cursor: pointer; font-weight: 600; }
.inspector .sub { display: block; color: var(--muted); font-size: 12px; }
.inspector nav.tabs { display: flex; gap: 16px; margin: 0 0 12px; }
.inspector nav.tabs a[aria-current=page] { font-weight: 700; color: var(--ink); text-decoration: none; }
.params { display: grid; grid-template-columns: max-content 1fr; gap: 0 10px; margin: 4px 0; font-size: 12px; }
.params dt { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.params dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.log-entry { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 0 0 8px; }
.log-entry summary { cursor: pointer; }
.log-entry .answer { overflow-wrap: anywhere; font-size: 12px; }
form.filter { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 0 0 12px; }
form.filter input { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; }
form.filter button { padding: 4px 12px; }
`

/**
 * The desktop cashier's only script: polls the trade's status and moves on by itself once the
 * trade was paid elsewhere (by scanning the QR code with the phone page).
 */
export const CASHIER_JS = `
(function () {
  var url = document.body.getAttribute('data-status');
  if (!url) return;
  function poll() {
    fetch(url, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (s) {
      if (s && s.next) { window.location.assign(s.next); return; }
      setTimeout(poll, 1500);
    }, function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1500);
})();
`
