// A merchant's shop on Express 5 that takes Alipay through Payment Request, written the way a
// merchant would: only the kit's published packages, no path into the kit's repository.
import { once } from 'node:events'
import express from 'express'
import { createMerchant, OrderError, toNodeHandler } from '@alipay-payment-handler/merchant'

/** What the shop sells, at its prices. */
const CATALOG = { 'jasmine-tea': { name: 'Jasmine tea', price: '0.01' } }

/** The shop's one page: it prepares an order, then pays it with `PaymentRequest` on a click. */
const page = (appOrigin) => `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Express tea shop</title>
<button id="pay" disabled>Pay 0.01 with Alipay</button> <output id="status">loading</output>
<script type="module">
  // The polyfill maps "alipay" to the payment app's handler (native in Chromium).
  import '${appOrigin}/polyfill/alipay-polyfill.js?app=${appOrigin}'
  const status = document.querySelector('#status')
  // The order's view token (from creating it) opens that order, and only that one, to this buyer.
  let viewToken = ''
  const post = async (path, body = {}) => {
    const response = await fetch('/alipay' + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'order-view-token': viewToken },
      body: JSON.stringify(body),
    })
    const json = await response.json()
    if (!response.ok) throw new Error(json.code ?? String(response.status))
    return json
  }
  const order = await post('/orders', { sku: 'jasmine-tea' })
  viewToken = order.viewToken
  const { data, total } = await post('/orders/' + order.orderId + '/payment-data')
  const button = document.querySelector('#pay')
  button.onclick = async () => {
    try {
      const request = new PaymentRequest([{ supportedMethods: 'alipay', data }], {
        total: { label: 'Express tea shop', amount: total },
      })
      const response = await request.show()
      // The server verifies signature, order and amount, and asks the gateway, before it counts.
      const paid = await post('/orders/' + order.orderId + '/confirm', { details: response.details })
      await response.complete(paid.status === 'success' ? 'success' : 'fail')
      status.textContent = paid.status + ' ' + order.orderId
    } catch (error) {
      status.textContent = 'failed ' + error.name + ': ' + error.message
    }
  }
  button.disabled = false
  status.textContent = 'ready ' + order.orderId
</script></html>`

/** Starts the shop on `port`; the merchant library holds the partner's keys and the order database. */
export async function startShop({ port, gatewayUrl, appOrigin, partner, database }) {
  const origin = `http://localhost:${port}`
  const merchant = await createMerchant({
    partner,
    gatewayUrl,
    database,
    notifyUrl: `${origin}/alipay/notify`,
    // The page names the product; its price comes from the shop's catalog, never from the page.
    priceOrder: (body) => {
      const product = CATALOG[String(body.sku)]
      if (!product) throw new OrderError('ORDER_NOT_EXIST', 'no such product')
      return { subject: product.name, amount: product.price }
    },
  })
  const app = express()
  app.use('/alipay', toNodeHandler(merchant.handler))
  app.get('/', (_req, res) => res.type('html').send(page(appOrigin)))
  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    origin,
    orders: merchant.orders,
    close: () => new Promise((resolve) => server.close(() => resolve(merchant.close()))),
  }
}
