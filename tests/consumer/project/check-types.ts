// Type-checks every public entry point the way a merchant's NodeNext project sees it, and
// fails when a kit type silently turns into `any`.
import type * as gatewayClient from '@alipay-payment-handler/gateway-client'
import type * as handler from '@alipay-payment-handler/handler'
import * as merchant from '@alipay-payment-handler/merchant'
import type * as paymentApp from '@alipay-payment-handler/payment-app'
import type * as polyfill from '@alipay-payment-handler/polyfill'
import type * as protocol from '@alipay-payment-handler/protocol'
import type * as sandbox from '@alipay-payment-handler/sandbox'
import * as sandboxTesting from '@alipay-payment-handler/sandbox/testing'
import type * as serverRuntime from '@alipay-payment-handler/server-runtime'
import type * as testing from '@alipay-payment-handler/testing'

type IsAny<T> = 0 extends 1 & T ? true : false
/** Compiles only when `T` is a real type: `notAny<typeof x>(false)`. */
const notAny = <T>(isAny: IsAny<T>): IsAny<T> => isAny

notAny<typeof protocol.signParams>(false)
notAny<typeof protocol.verifyPaymentResponse>(false)
notAny<typeof polyfill.installAlipayPolyfill>(false)
notAny<typeof handler.createHandlerAssets>(false)
notAny<typeof gatewayClient.createMapiClient>(false)
notAny<typeof serverRuntime.HttpProblem>(false)
notAny<typeof paymentApp.startSigningServer>(false)
notAny<typeof merchant.createMerchant>(false)
notAny<typeof merchant.toNodeHandler>(false)
notAny<typeof sandbox.startSandbox>(false)
notAny<typeof sandboxTesting.DEMO_PARTNER>(false)
notAny<typeof testing.findHandlerWindow>(false)

// A few real uses, so that wrong signatures fail here and not in a merchant's build.
const partner: gatewayClient.PartnerConfig = {
  partner: sandboxTesting.DEMO_PARTNER.partner,
  md5Key: sandboxTesting.DEMO_PARTNER.md5Key,
  allowedOrigins: ['https://shop.example'],
}
const options: merchant.MerchantOptions = {
  partner,
  gatewayUrl: 'https://mapi.alipay.com/gateway.do',
  database: 'orders.db',
  notifyUrl: 'https://shop.example/alipay/notify',
  // A one-product shop: every order is this product at its price.
  priceOrder: () => ({ subject: 'Jasmine tea', amount: '0.01' }),
}
export async function example(): Promise<string> {
  const shop = await merchant.createMerchant(options)
  const order: merchant.OrderView = await shop.orders.create('Jasmine tea', '0.01')
  const mode: polyfill.PolyfillMode | undefined = undefined
  void mode
  shop.close()
  return order.amount
}
