import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { md5Sign, signParams, verifyParams, type Params } from '@alipay-payment-handler/protocol'
import { createMapiClient } from '@alipay-payment-handler/gateway-client'
import { createOrderService, openSqliteOrderStore } from '@alipay-payment-handler/merchant'
import { DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import {
  call,
  createSession,
  eventually,
  gatewaySign,
  merchantOrder,
  notifyFor,
  paymentData,
  payOrder,
  placeOrder,
  postNotify,
  startSecurityStack,
  type SecurityStack,
} from './support/stack.js'

/** Another partner's MD5 key: a real signature, but not from this partner's key. */
const OTHER_PARTNER_MD5 = 'other0partner0md5key000000000001'

let stack: SecurityStack
beforeAll(async () => {
  stack = await startSecurityStack()
})
afterAll(async () => {
  await stack.close()
})

describe('signature attacks', () => {
  it('attack: empty or missing sign on the payment method data is refused by the signing server', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const { sign: _sign, ...missing } = data
    const noSign = await createSession(stack, missing, total)
    expect(noSign.status).toBeGreaterThanOrEqual(400)
    expect(noSign.status).toBeLessThan(500)
    const empty = await createSession(stack, { ...data, sign: '' }, total)
    expect(empty.status).toBeGreaterThanOrEqual(400)
    expect(empty.status).toBeLessThan(500)
    expect([noSign.json.type, empty.json.type].join(' ')).toMatch(/invalid-(method-data|signature)/)
  })

  it('attack: empty or missing sign on a notify pays nothing (relay and merchant)', async () => {
    const order = await placeOrder(stack)
    const { sign: _sign, ...unsigned } = await gatewaySign(notifyFor(order.orderId, order.amount))
    const relayMissing = await postNotify(`${stack.signing.url}/notify/mapi`, unsigned)
    const relayEmpty = await postNotify(`${stack.signing.url}/notify/mapi`, { ...unsigned, sign: '' })
    const merchantMissing = await postNotify(`${stack.merchant.url}/api/notify`, unsigned)
    const merchantEmpty = await postNotify(`${stack.merchant.url}/api/notify`, { ...unsigned, sign: '' })
    for (const answer of [relayMissing, relayEmpty, merchantMissing, merchantEmpty]) {
      expect(answer.text).not.toBe('success')
    }
    expect((await merchantOrder(stack, order.orderId)).status).toBe('wait')
  })

  it('attack: sign_type downgrade RSA2 → MD5 with the public key as the MD5 key is refused', async () => {
    // A partner that uses RSA2 only: no MD5 key is configured anywhere.
    const rsaOnly = { privateKey: DEMO_MERCHANT_RSA.privateKey, publicKey: DEMO_GATEWAY_RSA.publicKey }
    const order = await placeOrder(stack)
    const params = notifyFor(order.orderId, order.amount)
    const { sign: _s, sign_type: _t, ...rest } = params
    const downgraded: Params = {
      ...rest,
      sign_type: 'MD5',
      sign: md5Sign(
        Object.keys(rest)
          .sort()
          .map((k) => `${k}=${rest[k]}`)
          .join('&'),
        DEMO_GATEWAY_RSA.publicKey,
      ),
    }
    expect(await verifyParams(downgraded, { keys: rsaOnly })).toMatchObject({ ok: false, reason: 'no-key' })

    // The order service of an RSA2-only merchant, against the real sandbox: the notify changes nothing.
    const store = openSqliteOrderStore(':memory:')
    const service = createOrderService({
      store,
      gateway: createMapiClient({
        gatewayUrl: stack.sandbox.gatewayUrl,
        partner: DEMO_PARTNER.partner,
        keys: rsaOnly,
        signType: 'RSA2',
      }),
      partner: DEMO_PARTNER.partner,
      sellerId: DEMO_PARTNER.sellerId,
      keys: rsaOnly,
      signType: 'RSA2',
      notifyUrl: 'http://127.0.0.1:1/notify',
    })
    const local = await service.create('subject', '39.90', order.orderId)
    const result = await service.notify({ ...downgraded, total_fee: '39.90' })
    expect(result).toMatchObject({ ack: 'fail', outcome: 'rejected', code: 'INVALID_SIGNATURE' })
    expect((await service.query(local.orderId)).status).toBe('wait')
    store.close()

    // The signing server, for the merchant's data: MD5 "signed" with the merchant's public key.
    const { data, total } = await paymentData(stack, order.orderId)
    const { sign: _ds, sign_type: _dt, ...unsignedData } = data
    const forged = {
      ...unsignedData,
      sign_type: 'MD5',
      sign: md5Sign(
        Object.keys(unsignedData)
          .sort()
          .filter((k) => unsignedData[k] !== '')
          .map((k) => `${k}=${unsignedData[k]}`)
          .join('&'),
        DEMO_MERCHANT_RSA.publicKey,
      ),
    }
    const session = await createSession(stack, forged, total)
    expect(session.status).toBe(403)
    expect(session.json.type).toMatch(/invalid-signature/)
  })

  it('attack: a valid signature from another partner is refused', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    const { sign: _s, sign_type: _t, ...unsigned } = data
    const otherSigned = await signParams(unsigned, { signType: 'MD5', keys: { md5Key: OTHER_PARTNER_MD5 } })
    const session = await createSession(stack, otherSigned, total)
    expect(session.status).toBe(403)
    expect(session.json.type).toMatch(/invalid-signature/)

    const notify = await signParams(notifyFor(order.orderId, order.amount), {
      signType: 'MD5',
      keys: { md5Key: OTHER_PARTNER_MD5 },
    })
    expect((await postNotify(`${stack.signing.url}/notify/mapi`, notify)).status).toBe(403)
    expect((await postNotify(`${stack.merchant.url}/api/notify`, notify)).text).toBe('fail')
    // Gateway-signed (RSA), but for another seller: the gateway's key signs every partner's notifies.
    const foreign = await gatewaySign(notifyFor(order.orderId, order.amount, { seller_id: '2088999999999999' }), 'RSA2')
    await postNotify(`${stack.merchant.url}/api/notify`, foreign)
    expect((await merchantOrder(stack, order.orderId)).status).toBe('wait')
  })

  it('attack: a signature over different bytes (Unicode normalisation, charset switch) does not verify', async () => {
    const order = await placeOrder(stack)
    const { data, total } = await paymentData(stack, order.orderId)
    // "Café" in NFC is signed; the same text in NFD is other bytes.
    const { sign: _s, sign_type: _t, ...unsigned } = data
    const nfcSigned = await signParams(
      { ...unsigned, subject: 'Caf\u00e9 order' },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    expect((await createSession(stack, nfcSigned, total)).status).toBe(201)
    const nfd = { ...nfcSigned, subject: 'Cafe\u0301 order' }
    const refused = await createSession(stack, nfd, total)
    expect(refused.status).toBe(403)
    expect(refused.json.type).toMatch(/invalid-signature/)

    // A UTF-8 notify declared as GBK decodes to other characters, so its signature fails.
    const notify = await gatewaySign(notifyFor(order.orderId, order.amount, { subject: '茶杯' }))
    const body = new URLSearchParams(notify).toString()
    const asGbk = await fetch(`${stack.signing.url}/notify/mapi`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=gbk' },
      body,
    })
    expect(asGbk.status).toBe(403)
    expect(await asGbk.text()).not.toBe('success')
  })

  it('attack: duplicate parameters in one query are refused, never read two ways', async () => {
    const paid = await payOrder(stack)
    const other = await placeOrder(stack)
    const otherData = await paymentData(stack, other.orderId)
    const otherSession = await createSession(stack, otherData.data, otherData.total)
    expect(otherSession.status).toBe(201)
    const query = new URL(paid.returnUrl).search
    // Order A's genuine return, plus a second out_trade_no naming order B: one reader verifies
    // the first value, another uses the last. The decoder must refuse, not pick.
    const doubled = `${query}&out_trade_no=${other.orderId}`
    const answer = await call(`${stack.signing.url}/api/sessions/${otherSession.json.sessionId}/return`, {
      body: { query: doubled },
    })
    expect(answer.status).toBe(400)
    expect(answer.json.type).toMatch(/malformed-return/)
    const notify = await gatewaySign(notifyFor(other.orderId, other.amount))
    const twice = `${new URLSearchParams(notify).toString()}&total_fee=0.01`
    const merchant = await fetch(`${stack.merchant.url}/api/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: twice,
    })
    expect(await merchant.text()).toBe('fail')
    // The gateway too: a pay request with total_fee twice is not taken.
    const gateway = await fetch(
      `${stack.sandbox.gatewayUrl}?${new URLSearchParams({ ...paid.data, service: 'create_direct_pay_by_user' }).toString()}&total_fee=0.01`,
      { redirect: 'manual' },
    )
    expect(gateway.status).not.toBe(302)
    expect((await merchantOrder(stack, other.orderId)).status).toBe('wait')
  })

  it('attack: "+" versus %20/%2B in a signed query changes the value, so the signature fails', async () => {
    // Hold the notify back until the returns are judged, so the return (not the notify) is what
    // settles the session; a dropped first attempt would be retried after only 120 ms.
    await call(`${stack.sandbox.url}/_sandbox/faults`, { body: { notifyDelayMs: 60_000 } })
    const paid = await payOrder(stack).finally(() => call(`${stack.sandbox.url}/_sandbox/faults`, { method: 'DELETE' }))
    const query = new URL(paid.returnUrl).search
    // The return's notify_id carries %2B once decoded (sent as %252B): decoding twice changes it.
    expect(query).toContain('%252B')
    const mangled = query.replace(/%252B/g, '%2B')
    const answer = await call(`${stack.signing.url}/api/sessions/${paid.sessionId}/return`, {
      body: { query: mangled },
    })
    expect(answer.status).toBe(400)
    expect(answer.json.type).toMatch(/invalid-signature/)
    // "+" and %20 are both a space in a form: the rewrite is accepted only because it means the
    // very same value, and that verified value is the one used (decoded once, in one place).
    expect(query).toContain('%20')
    const spaced = query.replace(/%20/g, '+')
    const second = await call(`${stack.signing.url}/api/sessions/${paid.sessionId}/return`, {
      body: { query: spaced },
    })
    expect(second.status).toBe(200)
    expect(second.json.outcome.details.subject).toBe('1 × Celadon tea cup')
    expect(second.json.outcome.details.notify_id).toContain('%2B')
    // The genuine return still works afterwards.
    const genuine = await call(`${stack.signing.url}/api/sessions/${paid.sessionId}/return`, { body: { query } })
    expect(genuine.status).toBe(200)
    // Now let the held notify go: through the relay it pays the shop's order.
    const notifies = (await call(`${stack.sandbox.url}/_sandbox/notifies`)).json.notifies as { notifyId: string }[]
    const held = notifies.find((n) => JSON.stringify(n).includes(paid.orderId))!
    const resent = await call(`${stack.sandbox.url}/_sandbox/triggers/resend`, { body: { notify_id: held.notifyId } })
    expect(resent.status).toBe(200)
    await eventually(async () => (await merchantOrder(stack, paid.orderId)).status === 'success')
  })
})
