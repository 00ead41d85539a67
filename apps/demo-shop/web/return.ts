import { announce, byId } from './dom.js'

/**
 * The cashier sends the buyer here (the order service's return_url) with gateway-signed
 * parameters. The page trusts none of them: it only takes the order number and lets the
 * checkout page ask the backend, which asks the gateway.
 */
const orderId = new URLSearchParams(location.search).get('out_trade_no')
if (orderId) {
  location.replace(`/checkout.html?order=${encodeURIComponent(orderId)}&returned=1`)
} else {
  announce(byId('return-status'), 'Alipay sent no order number. Your orders page shows every payment.', 'error')
}
