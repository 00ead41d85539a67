import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeForm,
  encodeForm,
  signOpenapiNotify,
  signParams,
  verifyOpenapiNotify,
  verifyPaymentResponse,
  type Params,
} from '@alipay-payment-handler/protocol'
import {
  DEMO_APP,
  DEMO_GATEWAY_RSA,
  DEMO_MERCHANT_RSA,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import type { RunningSandbox } from '@alipay-payment-handler/sandbox'
import { demoOpenapiPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { createPaymentGateway } from '@alipay-payment-handler/gateway-client'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import { eventually, startMerchant, tempDir, type Merchant } from '../support/harness.js'
import {
  MERCHANT_ORIGIN,
  payAtCashier,
  quickSigningServer,
  sessionsApi,
  startTestSandbox,
} from '../support/signing-flow.js'

const ALIPAY_RING = { publicKey: DEMO_GATEWAY_RSA.publicKey }

/** The openapi Payment Request path: merchant data → signing server → page.pay/wap.pay → response. */
describe('signing server for an openapi partner, against the real sandbox', () => {
  const tmp = tempDir('alipay-openapi-signing-')
  let sandbox: RunningSandbox
  let merchant: Merchant
  let signing: RunningSigningServer
  // The relay forwards only to the partner's configured origins: the merchant's and this receiver's.
  let receiver: NotifyReceiver

  beforeAll(async () => {
    sandbox = await startTestSandbox(tmp.dir)
    merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders.db`, {
      gateway: createPaymentGateway({
        kind: 'openapi',
        gatewayUrl: sandbox.gatewayUrl,
        appId: DEMO_APP.appId,
        privateKey: DEMO_APP.privateKey,
        publicKey: DEMO_GATEWAY_RSA.publicKey,
        sellerId: DEMO_APP.sellerId,
        timeoutMs: 3000,
      }),
    })
    receiver = await startReceiver()
    signing = await startSigningServer({
      port: 0,
      // Nothing listens on the server's gateway: every call must go to the partner's own gateway.do,
      // as when mapi and openapi partners share a server against the real (two-host) gateways.
      gatewayUrl: 'http://127.0.0.1:9/gateway.do',
      partners: [
        demoOpenapiPartnerConfig({
          allowedOrigins: [MERCHANT_ORIGIN],
          notifyOrigins: [new URL(merchant.url).origin, new URL(receiver.url).origin],
          gatewayUrl: sandbox.gatewayUrl,
        }),
      ],
      ...quickSigningServer(tmp.dir),
    })
  })
  afterAll(async () => {
    await signing.close()
    await receiver.close()
    await merchant.close()
    await sandbox.close()
    tmp.cleanup()
  })

  const { call: api, createSession } = sessionsApi(() => signing.url)

  /** Orders an item at the merchant and opens a session with the merchant's signed data. */
  async function orderAndSession(device: 'pc' | 'wap' = 'pc') {
    const order = await merchant.orders.create('openapi 测试', '0.02')
    const { data } = await merchant.orders.paymentData(order.orderId)
    const created = await createSession(data as Params, device)
    expect(created.status).toBe(201)
    return { order, data: data as Params, session: created.json as { sessionId: string; cashierUrl: string } }
  }

  it('re-signs the method data as alipay.trade.page.pay and answers a response the merchant verifies', async () => {
    const { order, data, session } = await orderAndSession()
    // The merchant signed the spec's dictionary RSA2 with the app key, under the mapi string rule.
    expect(data).toMatchObject({ partner: DEMO_APP.sellerId, sign_type: 'RSA2', total_fee: '0.02' })
    const request = decodeForm(new URL(session.cashierUrl).search)
    expect(request).toMatchObject({
      app_id: DEMO_APP.appId,
      method: 'alipay.trade.page.pay',
      sign_type: 'RSA2',
      notify_url: `${signing.url}/notify/openapi`,
      return_url: `${signing.url}/pay/return/${session.sessionId}`,
    })
    expect(JSON.parse(request['biz_content']!)).toEqual({
      out_trade_no: order.orderId,
      total_amount: '0.02',
      subject: 'openapi 测试',
      product_code: 'FAST_INSTANT_TRADE_PAY',
      // The order's signed deadline (it_b_pay, absolute), as whole minutes left.
      timeout_express: expect.stringMatching(/^\d+m$/),
    })

    const location = await payAtCashier(session.cashierUrl)
    const returned = await api(`/api/sessions/${session.sessionId}/return`, { query: new URL(location).search })
    expect(returned.status).toBe(200)
    expect(returned.json.status).toBe('paid')
    const details = returned.json.outcome.details as Record<string, string>
    // ONE gateway-signed set (the notify when it came first, else the return) plus the three unsigned members.
    expect(details).toMatchObject({
      success: 'true',
      gateway: 'openapi',
      app_id: DEMO_APP.appId,
      out_trade_no: order.orderId,
      total_amount: '0.02',
      total_fee: '0.02',
    })
    expect(await verifyPaymentResponse(details, ALIPAY_RING)).toMatchObject({ ok: true })
    // A changed amount fails, in the signed member or in its mirror.
    expect(await verifyPaymentResponse({ ...details, total_amount: '0.01' }, ALIPAY_RING)).toMatchObject({ ok: false })
    expect(await verifyPaymentResponse({ ...details, total_fee: '0.01' }, ALIPAY_RING)).toMatchObject({
      ok: false,
      reason: 'mirror-mismatch',
    })

    // As the buyer's page: with the order's view token.
    const confirmed = await fetch(`${merchant.url}/orders/${order.orderId}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...merchant.buyer(order.orderId) },
      body: JSON.stringify({ details }),
    })
    expect(confirmed.status).toBe(200)
    expect(await confirmed.json()).toMatchObject({ status: 'success', tradeNo: details['trade_no'] })
    const tampered = await merchant.orders
      .confirm(order.orderId, { ...details, total_amount: '0.01', total_fee: '0.01' })
      .catch((error: { code: string }) => error.code)
    expect(tampered).toBe('INVALID_SIGNATURE')

    // The gateway's notification reaches the merchant through /notify/openapi, verbatim, once.
    const notifies = await eventually(async () => {
      const list = await merchant.store.notifies(order.orderId)
      return list.length > 0 ? list : undefined
    })
    expect(notifies).toHaveLength(1)
    expect(notifies[0]).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' })
    const stored = (await signing.server.store.paidNotifyFor(DEMO_APP.sellerId, order.orderId))!
    expect(await verifyOpenapiNotify(decodeForm(stored.body), DEMO_GATEWAY_RSA.publicKey)).toMatchObject({ ok: true })
  })

  it('answers a WAP session with alipay.trade.wap.pay, quit_url and a cashier page posting openapi fields', async () => {
    const { session } = await orderAndSession('wap')
    const request = decodeForm(new URL(session.cashierUrl).search)
    expect(request['method']).toBe('alipay.trade.wap.pay')
    expect(JSON.parse(request['biz_content']!)).toMatchObject({
      product_code: 'QUICK_WAP_WAY',
      quit_url: `${signing.url}/pay/return/${session.sessionId}?quit=1`,
    })
    expect(session.cashierUrl.startsWith(`${sandbox.gatewayUrl}?`)).toBe(true)
    const cashier = await fetch(`${signing.url}/api/sessions/${session.sessionId}/cashier`)
    expect(cashier.headers.get('content-security-policy')).toContain(
      `form-action 'self' ${new URL(sandbox.gatewayUrl).origin}`,
    )
    const page = await cashier.text()
    expect(page).toContain('name="method" value="alipay.trade.wap.pay"')
    expect(page).toContain(`action="${sandbox.gatewayUrl}?charset=utf-8"`)
    const location = await payAtCashier(session.cashierUrl)
    expect(decodeForm(new URL(location).search)['method']).toBe('alipay.trade.wap.pay.return')
    const returned = await api(`/api/sessions/${session.sessionId}/return`, { query: new URL(location).search })
    expect(returned.json.status).toBe('paid')
  })

  it('settles from the notification alone and forwards it verbatim when the return never comes', async () => {
    {
      const order = await merchant.orders.create('relay', '0.03')
      const { data } = await merchant.orders.paymentData(order.orderId)
      const redirected = await signParams(
        { ...(data as Params), notify_url: receiver.url },
        { signType: 'RSA2', keys: { privateKey: DEMO_APP.privateKey } },
      )
      const created = await createSession(redirected)
      await payAtCashier(created.json.cashierUrl)
      const [notify] = await receiver.waitFor(1, undefined, 10_000)
      expect(notify!.params).toMatchObject({ out_trade_no: order.orderId, trade_status: 'TRADE_SUCCESS' })
      expect(await verifyOpenapiNotify(notify!.params, DEMO_GATEWAY_RSA.publicKey)).toMatchObject({ ok: true })
      const view = await eventually(async () => {
        const v = (await api(`/api/sessions/${created.json.sessionId}`)).json
        return v.status === 'paid' && v.outcome ? v : undefined
      })
      // Built from the notification: trade_status and notify_id are signed members here.
      expect(view.outcome.details).toMatchObject({ trade_status: 'TRADE_SUCCESS', gateway: 'openapi', success: 'true' })
      expect(await verifyPaymentResponse(view.outcome.details, ALIPAY_RING)).toMatchObject({ ok: true })
    }
  })

  it('refuses method data signed with another key, a forged return and notifies that do not verify', async () => {
    const order = await merchant.orders.create('refusals', '0.04')
    const { data } = await merchant.orders.paymentData(order.orderId)
    const otherKey = await signParams(data as Params, {
      signType: 'RSA2',
      keys: { privateKey: DEMO_MERCHANT_RSA.privateKey },
    })
    const refused = await createSession(otherKey)
    expect(refused.status).toBe(403)
    expect(refused.json.type).toMatch(/invalid-signature$/)

    // No notify settles the session first, so the return alone is judged.
    sandbox.deps.faults.update({ dropNotifyAttempts: 8 })
    try {
      const created = await createSession(data as Params)
      const location = await payAtCashier(created.json.cashierUrl)
      const query = decodeForm(new URL(location).search)
      const forged = await api(`/api/sessions/${created.json.sessionId}/return`, {
        query: `?${encodeForm({ ...query, total_amount: '0.01' })}`,
      })
      expect(forged.status).toBe(400)
      expect(forged.json.type).toMatch(/invalid-signature$/)
      // The genuine return, confirmed by alipay.trade.query, pays with the return set itself.
      const genuine = await api(`/api/sessions/${created.json.sessionId}/return`, { query: new URL(location).search })
      expect(genuine.json.status).toBe('paid')
      const details = genuine.json.outcome.details as Record<string, string>
      expect(details).toMatchObject({ method: 'alipay.trade.page.pay.return', total_fee: '0.04', success: 'true' })
      expect(details['trade_status']).toBeUndefined()
      expect(await verifyPaymentResponse(details, ALIPAY_RING)).toMatchObject({ ok: true })
    } finally {
      sandbox.deps.faults.reset()
    }

    const notify = async (path: string, params: Params) =>
      fetch(`${signing.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: encodeForm(params),
      })
    const fields: Params = {
      notify_time: '2024-05-01 12:00:00',
      notify_type: 'trade_status_sync',
      notify_id: '2024050100222120000000000000000001',
      app_id: DEMO_APP.appId,
      charset: 'utf-8',
      version: '1.0',
      trade_no: '2024050122001400001000000009',
      out_trade_no: order.orderId,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '0.04',
      seller_id: DEMO_APP.sellerId,
    }
    // Signed with the app key, not Alipay's: refused, never forwarded.
    const badKey = await notify('/notify/openapi', await signOpenapiNotify(fields, DEMO_APP.privateKey))
    expect(badKey.status).toBe(403)
    // Alipay-signed but naming another app: refused.
    const foreign = await notify(
      '/notify/openapi',
      await signOpenapiNotify({ ...fields, app_id: '2021000000000001' }, DEMO_GATEWAY_RSA.privateKey),
    )
    // A notify is matched by the app it names, never by its order number: no app here, no match.
    expect(foreign.status).toBe(404)
    expect(((await foreign.json()) as { type: string }).type).toMatch(/unknown-order$/)
    // An openapi notify on the mapi endpoint: not the shape of a mapi notify (no total_fee).
    const wrongEndpoint = await notify('/notify/mapi', await signOpenapiNotify(fields, DEMO_GATEWAY_RSA.privateKey))
    expect(wrongEndpoint.status).toBe(400)
    expect(((await wrongEndpoint.json()) as { type: string }).type).toMatch(/malformed-notify$/)
  })
})
