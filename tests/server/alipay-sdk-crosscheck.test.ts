import { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  OPENAPI_RESPONSE_UNSIGNED_KEYS,
  bizContent,
  decodeForm,
  encodeForm,
  formatBeijingTime,
  signParams,
  signOpenapiRequest,
  verifyOpenapiRequest,
  type Params,
} from '@alipay-payment-handler/protocol'
import {
  DEMO_APP,
  DEMO_GATEWAY_RSA,
  postCashierPay,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { demoOpenapiPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import { tempDir } from '../support/harness.js'

/**
 * Alipay's own Node SDK (a devDependency, never a runtime one) judges what our code and our
 * sandbox produce: requests we sign, notifications, returns and replies the sandbox signs, and the
 * AlipayPaymentResponse the signing server builds (docs/decisions/0003).
 */
describe('cross-check with alipay-sdk', () => {
  const tmp = tempDir('alipay-sdk-crosscheck-')
  const MERCHANT_ORIGIN = 'http://localhost:4100'
  let sandbox: RunningSandbox
  let signing: RunningSigningServer
  let receiver: NotifyReceiver
  let sdk: AlipaySdk

  beforeAll(async () => {
    sandbox = await startSandbox(
      demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: 0.001, log: () => {} }),
    )
    receiver = await startReceiver()
    signing = await startSigningServer({
      port: 0,
      gatewayUrl: sandbox.gatewayUrl,
      // The relay forwards only to the partner's configured origins.
      partners: [
        demoOpenapiPartnerConfig({ allowedOrigins: [MERCHANT_ORIGIN], notifyOrigins: [new URL(receiver.url).origin] }),
      ],
      dbPath: `${tmp.dir}/signing.db`,
      logger: silentLogger(),
      outboxIntervalMs: 20,
      rateLimits: false,
    })
    sdk = new AlipaySdk({
      appId: DEMO_APP.appId,
      privateKey: DEMO_APP.privateKey,
      alipayPublicKey: DEMO_GATEWAY_RSA.publicKey,
      keyType: 'PKCS8',
      gateway: sandbox.gatewayUrl,
    })
  })
  afterAll(async () => {
    await receiver.close()
    await signing.close()
    await sandbox.close()
    tmp.cleanup()
  })

  it('signs requests byte for byte like the SDK, and our sandbox accepts what the SDK signs', async () => {
    const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
      bizContent: {
        outTradeNo: `SDK${Date.now()}`,
        totalAmount: '0.01',
        subject: 'sdk',
        productCode: 'FAST_INSTANT_TRADE_PAY',
      },
      notifyUrl: receiver.url,
      // The SDK stamps the host's local time; Alipay wants Beijing time whatever the zone (openapi-protocol §11.5).
      timestamp: formatBeijingTime(new Date()),
    })
    const params = decodeForm(new URL(url).search)
    expect(params).toMatchObject({ app_id: DEMO_APP.appId, sign_type: 'RSA2', method: 'alipay.trade.page.pay' })
    // Our request rule verifies the SDK's signature, and our signer makes the same bytes from the same set.
    expect(await verifyOpenapiRequest(params, DEMO_APP.publicKey)).toMatchObject({ ok: true })
    const { sign, ...unsigned } = params
    expect((await signOpenapiRequest(unsigned, DEMO_APP.privateKey))['sign']).toBe(sign)
    const opened = await fetch(url, { redirect: 'manual' })
    expect(opened.status).toBe(302)
    expect(opened.headers.get('location')).toContain('/cashier/')
  })

  it('verifies (checkResponseSign) a reply the sandbox signed for a request we signed', async () => {
    const request = await signOpenapiRequest(
      {
        app_id: DEMO_APP.appId,
        method: 'alipay.trade.query',
        format: 'JSON',
        charset: 'utf-8',
        sign_type: 'RSA2',
        timestamp: formatBeijingTime(new Date()),
        version: '1.0',
        biz_content: bizContent({ out_trade_no: 'NO-SUCH-ORDER-1' }),
      },
      DEMO_APP.privateKey,
    )
    const raw = await (
      await fetch(`${sandbox.gatewayUrl}?charset=utf-8`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body: encodeForm(request),
      })
    ).text()
    const reply = JSON.parse(raw) as { sign: string; alipay_trade_query_response: { sub_code?: string } }
    expect(reply.alipay_trade_query_response.sub_code).toBe('ACQ.TRADE_NOT_EXIST')
    expect(() => sdk.checkResponseSign(raw, 'alipay_trade_query_response', reply.sign, 't')).not.toThrow()
    expect(() =>
      sdk.checkResponseSign(raw.replace('NOT_EXIST', 'NOT_EXISX'), 'alipay_trade_query_response', reply.sign, 't'),
    ).toThrow()
  })

  it('accepts (checkNotifySignV2) the notification, the return and the stripped payment response', async () => {
    const outTradeNo = `SDKX${Date.now()}`
    const data: Params = {
      service: 'mobile.securitypay.pay',
      partner: DEMO_APP.sellerId,
      _input_charset: 'utf-8',
      notify_url: receiver.url,
      out_trade_no: outTradeNo,
      subject: 'sdk cross-check',
      payment_type: '1',
      total_fee: '0.05',
    }
    const methodData = await signParams(data, { signType: 'RSA2', keys: { privateKey: DEMO_APP.privateKey } })
    const created = await fetch(`${signing.url}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        paymentRequestId: 'pr-sdk',
        merchantOrigin: MERCHANT_ORIGIN,
        methodData,
        total: { currency: 'CNY', value: '0.05' },
      }),
    })
    expect(created.status).toBe(201)
    const session = (await created.json()) as { sessionId: string; cashierUrl: string }
    const toCashier = await fetch(session.cashierUrl, { redirect: 'manual' })
    const paid = await postCashierPay(new URL(toCashier.headers.get('location')!, session.cashierUrl).toString())
    const location = paid.headers.get('location')!

    // The return (decoded once) and the relayed notification, exactly as our server received them.
    const returned = decodeForm(new URL(location).search)
    expect(sdk.checkNotifySignV2({ ...returned })).toBe(true)
    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.params['out_trade_no']).toBe(outTradeNo)
    expect(sdk.checkNotifySignV2({ ...notify!.params })).toBe(true)
    expect(sdk.checkNotifySignV2({ ...notify!.params, total_amount: '0.01' })).toBe(false)

    const view = (await (
      await fetch(`${signing.url}/api/sessions/${session.sessionId}/return`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: new URL(location).search }),
      })
    ).json()) as { status: string; outcome: { details: Record<string, string> } }
    expect(view.status).toBe('paid')
    const details = view.outcome.details
    // Exactly the three payment-app members lie outside the signature: without them the SDK agrees…
    const stripped = Object.fromEntries(
      Object.entries(details).filter(([key]) => !OPENAPI_RESPONSE_UNSIGNED_KEYS.includes(key)),
    )
    expect(sdk.checkNotifySignV2(stripped)).toBe(true)
    // …and with any of them left in, it does not.
    const { success: _s, gateway: _g, ...withMirror } = details
    expect(sdk.checkNotifySignV2(withMirror)).toBe(false)
  })
})
