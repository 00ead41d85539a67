import { escapeXml, type Params } from '@alipay-payment-handler/protocol'

/**
 * The auto-submitting form that carries a signed pay request to the gateway, as the official
 * demo does (mapi-protocol §1.3). The inline script runs only with its nonce.
 */
export function renderCashierForm(form: { action: string; method: string; fields: Params }, nonce: string): string {
  const inputs = Object.entries(form.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeXml(name)}" value="${escapeXml(value)}">`)
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Redirecting to Alipay…</title></head>
<body>
<form id="cashier" method="${escapeXml(form.method)}" action="${escapeXml(form.action)}" accept-charset="utf-8">
${inputs}
<noscript><button type="submit">Continue to Alipay</button></noscript>
</form>
<script nonce="${nonce}">document.getElementById('cashier').submit()</script>
</body></html>`
}

/**
 * The same form as a fragment a merchant page inserts (the order service's WAP_PAY answer,
 * openapi-protocol §9): the form plus a one-line script that submits it.
 */
export function renderPayFormFragment(form: { action: string; method: string; fields: Params }): string {
  const inputs = Object.entries(form.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeXml(name)}" value="${escapeXml(value)}">`)
    .join('')
  return (
    `<form id="alipaysubmit" name="alipaysubmit" method="${escapeXml(form.method)}" action="${escapeXml(form.action)}" accept-charset="utf-8">` +
    `${inputs}<input type="submit" value="Pay with Alipay" style="display:none"></form>` +
    `<script>document.forms['alipaysubmit'].submit();</script>`
  )
}
