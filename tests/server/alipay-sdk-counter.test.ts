import { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatBeijingTime } from '@alipay-payment-handler/protocol'
import {
  DEMO_APP,
  DEMO_BUYER,
  DEMO_GATEWAY_RSA,
  startReceiver,
  type NotifyReceiver,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { tempDir } from '../support/harness.js'

/**
 * Alipay's own Node SDK as an outside client of the sandbox's counter methods: barcode pay,
 * trade.create and the APP order string (openapi-protocol §14.1–14.3). It signs the requests and
 * checks the sandbox's replies with its own signature code (`validateSign`).
 */
describe('alipay-sdk against the sandbox counter methods', () => {
  const tmp = tempDir('alipay-sdk-counter-')
  let sandbox: RunningSandbox
  let receiver: NotifyReceiver
  let sdk: AlipaySdk
  const orderNo = () => `SDKC${Date.now()}${Math.floor(Math.random() * 1e4)}`
  // The SDK stamps the host's local time; the gateway wants Beijing time (openapi-protocol §11.5).
  const stamp = () => formatBeijingTime(new Date())

  beforeAll(async () => {
    sandbox = await startSandbox(
      demoSandboxConfig({ port: 0, dbPath: `${tmp.dir}/sandbox.db`, timeScale: 0.001, log: () => {} }),
    )
    receiver = await startReceiver()
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
    await sandbox.close()
    tmp.cleanup()
  })

  const barcode = (authCode: string) =>
    sdk.exec(
      'alipay.trade.pay',
      {
        bizContent: { outTradeNo: orderNo(), totalAmount: '0.88', subject: 'sdk counter', scene: 'bar_code', authCode },
        timestamp: stamp(),
      },
      { validateSign: true },
    )

  it('barcode pay: 10000, 10003 and 40004 replies pass the SDK signature check', async () => {
    expect(await barcode('281000000000000001')).toMatchObject({ code: '10000', totalAmount: '0.88' })
    expect(await barcode('281000000000003000')).toMatchObject({ code: '10003', msg: 'order success pay inprocess' })
    expect(await barcode('281000000000004001')).toMatchObject({
      code: '40004',
      subCode: 'ACQ.PAYMENT_AUTH_CODE_INVALID',
    })
  })

  it('trade.create: a signed trade_no, then the query agrees', async () => {
    const outTradeNo = orderNo()
    const created = await sdk.exec(
      'alipay.trade.create',
      { bizContent: { outTradeNo, totalAmount: '1.11', subject: 'sdk create' }, timestamp: stamp() },
      { validateSign: true },
    )
    expect(created).toMatchObject({ code: '10000', outTradeNo })
    const queried = await sdk.exec(
      'alipay.trade.query',
      { bizContent: { outTradeNo }, timestamp: stamp() },
      { validateSign: true },
    )
    expect(queried).toMatchObject({ tradeNo: created['tradeNo'], tradeStatus: 'WAIT_BUYER_PAY' })
  })

  it('app pay: the SDK order string is paid on the app page; the SDK accepts the result and the notify', async () => {
    const outTradeNo = orderNo()
    const orderString = sdk.sdkExecute('alipay.trade.app.pay', {
      bizContent: { outTradeNo, totalAmount: '2.22', subject: 'sdk app', productCode: 'QUICK_MSECURITY_PAY' },
      notifyUrl: receiver.url,
      timestamp: stamp(),
    })
    const answer = (await (
      await fetch(`${sandbox.url}/app/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          order_string: orderString,
          login: DEMO_BUYER.login,
          password: DEMO_BUYER.password,
        }).toString(),
      })
    ).json()) as { resultStatus: string; result: string }
    expect(answer.resultStatus).toBe('9000')
    const { sign } = JSON.parse(answer.result) as { sign: string }
    expect(() => sdk.checkResponseSign(answer.result, 'alipay_trade_app_pay_response', sign, 't')).not.toThrow()
    const [notify] = await receiver.waitFor(1, 'trade_status_sync', 10_000)
    expect(notify!.params['out_trade_no']).toBe(outTradeNo)
    expect(sdk.checkNotifySignV2({ ...notify!.params })).toBe(true)
  })

  it('an unknown app_id comes back under the method key, unsigned', async () => {
    const stranger = new AlipaySdk({
      appId: '2021000000000000',
      privateKey: DEMO_APP.privateKey,
      alipayPublicKey: DEMO_GATEWAY_RSA.publicKey,
      keyType: 'PKCS8',
      gateway: sandbox.gatewayUrl,
    })
    const raw = await (
      await fetch(
        `${sandbox.gatewayUrl}?${stranger.sdkExecute('alipay.trade.query', { bizContent: { outTradeNo: 'X' }, timestamp: stamp() })}`,
      )
    ).json()
    expect(raw).toEqual({
      alipay_trade_query_response: expect.objectContaining({ code: '40002', sub_code: 'isv.invalid-app-id' }),
    })
    expect(
      await stranger.exec('alipay.trade.query', { bizContent: { outTradeNo: 'X' }, timestamp: stamp() }),
    ).toMatchObject({
      subCode: 'isv.invalid-app-id',
    })
  })
})
