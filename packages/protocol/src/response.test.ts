import { describe, expect, it } from 'vitest'
import { DEMO_GATEWAY_RSA, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { signOpenapiNotify } from './openapi.js'
import {
  buildOpenapiPaymentResponse,
  buildPaymentResponse,
  isOpenapiResponse,
  verifyPaymentResponse,
} from './response.js'
import { signParams } from './sign.js'

const ALIPAY = { publicKey: DEMO_GATEWAY_RSA.publicKey }

/** An openapi trade_status_sync as the gateway signs it (openapi-protocol §6.1). */
const notification = () =>
  signOpenapiNotify(
    {
      notify_time: '2024-05-01 12:00:05',
      notify_type: 'trade_status_sync',
      notify_id: '2024050100222120000000000000000001',
      app_id: '2021000122671080',
      charset: 'utf-8',
      version: '1.0',
      trade_no: '2024050122001400001000000001',
      out_trade_no: 'D20240501120000000001',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '88.88',
      seller_id: '2088101122136241',
      subject: '茶 & cup',
    },
    DEMO_GATEWAY_RSA.privateKey,
  )

describe('openapi payment responses (docs/decisions/0003)', () => {
  it('keeps the signed set verbatim and adds only success, gateway and the total_fee mirror', async () => {
    const signed = await notification()
    const details = buildOpenapiPaymentResponse(signed, true)
    expect(details).toEqual({ ...signed, success: 'true', gateway: 'openapi', total_fee: '88.88' })
    expect(isOpenapiResponse(details)).toBe(true)
    expect(await verifyPaymentResponse(details, ALIPAY)).toMatchObject({ ok: true })
  })

  it('says success only for a paid status or, for a return without one, the payment app verdict', async () => {
    const signed = await notification()
    expect(buildOpenapiPaymentResponse(signed, false).success).toBe('false')
    expect(buildOpenapiPaymentResponse({ ...signed, trade_status: 'TRADE_CLOSED' }, true).success).toBe('false')
    const { trade_status: _none, notify_id: _id, ...returned } = signed
    expect(buildOpenapiPaymentResponse(returned, true).success).toBe('true')
  })

  it('fails a changed amount, whether the signed total_amount or its unsigned mirror changed', async () => {
    const details = buildOpenapiPaymentResponse(await notification(), true)
    expect(await verifyPaymentResponse({ ...details, total_amount: '0.01' }, ALIPAY)).toMatchObject({ ok: false })
    expect(await verifyPaymentResponse({ ...details, total_fee: '0.01' }, ALIPAY)).toMatchObject({
      ok: false,
      reason: 'mirror-mismatch',
    })
    expect(await verifyPaymentResponse({ ...details, total_amount: '0.01', total_fee: '0.01' }, ALIPAY)).toMatchObject({
      ok: false,
      reason: 'signature-mismatch',
    })
  })

  it('fails any other added or dropped member, and an openapi response without the Alipay key', async () => {
    const details = buildOpenapiPaymentResponse(await notification(), true)
    expect((await verifyPaymentResponse({ ...details, buyer_email: 'x@y' }, ALIPAY)).ok).toBe(false)
    const { subject: _dropped, ...trimmed } = details
    expect((await verifyPaymentResponse(trimmed, ALIPAY)).ok).toBe(false)
    expect(await verifyPaymentResponse(details, { md5Key: DEMO_PARTNER.md5Key })).toMatchObject({
      ok: false,
      reason: 'no-key',
    })
    // The marker lost: app_id still routes it to the openapi rule.
    const { gateway: _marker, ...unmarked } = details
    expect(await verifyPaymentResponse(unmarked, ALIPAY)).toMatchObject({ ok: true })
  })

  it('keeps mapi responses on the mapi rule, where a gateway marker is a forged member', async () => {
    const signed = await signParams(
      { notify_id: 'n', notify_time: 't', notify_type: 'trade_status_sync', trade_status: 'TRADE_SUCCESS' },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    const details = buildPaymentResponse(signed, true)
    expect(isOpenapiResponse(details)).toBe(false)
    expect(await verifyPaymentResponse(details, { md5Key: DEMO_PARTNER.md5Key })).toMatchObject({ ok: true })
    const marked = { ...details, gateway: 'mapi' }
    expect((await verifyPaymentResponse(marked, { md5Key: DEMO_PARTNER.md5Key })).ok).toBe(false)
  })
})
