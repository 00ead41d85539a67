import { reconcileCli } from '@alipay-payment-handler/merchant'
import { DEMO_APP, DEMO_GATEWAY_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

// `npm run reconcile`: the merchant library's CLI with the dev stack's demo partner filled in
// when nothing is configured and the gateway is the local sandbox (never against a real one).
// Statements exist on openapi only, so `--statement` (or ALIPAY_GATEWAY_KIND=openapi) picks the
// demo openapi app, the one `ALIPAY_GATEWAY_KIND=openapi npm start` runs the shop on.
const env = { ...process.env }
const gateway = process.argv.includes('--gateway')
  ? process.argv[process.argv.indexOf('--gateway') + 1]
  : env['ALIPAY_GATEWAY_URL']
const local = gateway === undefined || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(gateway)
const configured = env['ALIPAY_PARTNER'] || env['ALIPAY_PARTNERS_FILE'] || env['ALIPAY_APP_ID']
const openapi = env['ALIPAY_GATEWAY_KIND'] === 'openapi' || process.argv.some((arg) => arg.startsWith('--statement'))
if (local && !configured && openapi) {
  env['ALIPAY_APP_ID'] = DEMO_APP.appId
  env['ALIPAY_APP_PRIVATE_KEY'] = DEMO_APP.privateKey
  env['ALIPAY_PUBLIC_KEY'] = DEMO_GATEWAY_RSA.publicKey
  env['ALIPAY_APP_SELLER_ID'] = DEMO_APP.sellerId
} else if (local && !configured) {
  env['ALIPAY_PARTNER'] = DEMO_PARTNER.partner
  env['ALIPAY_MD5_KEY'] = DEMO_PARTNER.md5Key
  env['ALIPAY_ALLOWED_ORIGINS'] = 'http://localhost:4100'
}
process.exitCode = await reconcileCli(process.argv.slice(2), {
  env,
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
})
