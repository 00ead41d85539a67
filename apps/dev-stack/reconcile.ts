import { reconcileCli } from '@alipay-payment-handler/merchant'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'

// `npm run reconcile`: the merchant library's CLI with the dev stack's demo partner filled in
// when nothing is configured and the gateway is the local sandbox (never against a real one).
const env = { ...process.env }
const gateway = process.argv.includes('--gateway')
  ? process.argv[process.argv.indexOf('--gateway') + 1]
  : env['ALIPAY_GATEWAY_URL']
const local = gateway === undefined || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//.test(gateway)
const configured = env['ALIPAY_PARTNER'] || env['ALIPAY_PARTNERS_FILE'] || env['ALIPAY_APP_ID']
if (local && !configured) {
  env['ALIPAY_PARTNER'] = DEMO_PARTNER.partner
  env['ALIPAY_MD5_KEY'] = DEMO_PARTNER.md5Key
  env['ALIPAY_ALLOWED_ORIGINS'] = 'http://localhost:4100'
}
process.exitCode = await reconcileCli(process.argv.slice(2), {
  env,
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
})
