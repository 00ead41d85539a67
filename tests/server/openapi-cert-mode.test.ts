import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  certificateSn,
  decodeForm,
  rootCertificateSn,
  verifyPaymentResponse,
  type Params,
} from '@alipay-payment-handler/protocol'
import {
  DEMO_CERT_APP,
  DEMO_GATEWAY_RSA,
  SANDBOX_ALIPAY_CERT,
  SANDBOX_ALIPAY_NEXT_CERT,
  SANDBOX_ALIPAY_NEXT_KEY,
  SANDBOX_APP_CERT,
  SANDBOX_ROGUE_ALIPAY_CERT,
  SANDBOX_ROOT_CERT,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import {
  GatewayError,
  certificatePublicKey,
  createOpenapiClient,
  createPaymentGateway,
  createPartnerRegistry,
  findPartnerIssues,
  loadOpenapiCertificates,
  readPartnerConfigs,
} from '@alipay-payment-handler/gateway-client'
import { startSigningServer, type RunningSigningServer } from '@alipay-payment-handler/payment-app'
import { eventually, startMerchant, tempDir, type Merchant } from '../support/harness.js'
import {
  MERCHANT_ORIGIN,
  payAtCashier,
  quickSigningServer,
  sessionsApi,
  startTestSandbox,
} from '../support/signing-flow.js'

const tmp = tempDir('alipay-cert-mode-')
const certFiles = () => ({ alipayCert: SANDBOX_ALIPAY_CERT, appCert: SANDBOX_APP_CERT, rootCert: SANDBOX_ROOT_CERT })

afterAll(() => tmp.cleanup())

/** Paying through the payment app with a partner in certificate mode, against the sandbox's cert-mode app. */
describe('certificate mode, end to end through the payment app', () => {
  let sandbox: RunningSandbox
  let merchant: Merchant
  let signing: RunningSigningServer

  beforeAll(async () => {
    sandbox = await startTestSandbox(tmp.dir)
    merchant = await startMerchant(sandbox.gatewayUrl, `${tmp.dir}/orders.db`, {
      gateway: createPaymentGateway({
        kind: 'openapi',
        gatewayUrl: sandbox.gatewayUrl,
        appId: DEMO_CERT_APP.appId,
        privateKey: DEMO_CERT_APP.privateKey,
        publicKey: '',
        certificates: loadOpenapiCertificates(certFiles()),
        sellerId: DEMO_CERT_APP.sellerId,
        timeoutMs: 3000,
      }),
    })
    // The app certificate as a file, the other two as PEM text: both forms are accepted.
    const appCertPath = `${tmp.dir}/appCertPublicKey.crt`
    writeFileSync(appCertPath, SANDBOX_APP_CERT)
    signing = await startSigningServer({
      port: 0,
      gatewayUrl: sandbox.gatewayUrl,
      partners: [
        {
          kind: 'openapi',
          partner: DEMO_CERT_APP.sellerId,
          sellerId: DEMO_CERT_APP.sellerId,
          appId: DEMO_CERT_APP.appId,
          privateKey: DEMO_CERT_APP.privateKey,
          alipayCertPath: SANDBOX_ALIPAY_CERT,
          appCertPath,
          rootCertPath: SANDBOX_ROOT_CERT,
          allowedOrigins: [MERCHANT_ORIGIN],
          notifyOrigins: [new URL(merchant.url).origin],
        },
      ],
      ...quickSigningServer(tmp.dir),
    })
  })
  afterAll(async () => {
    await signing?.close()
    await merchant?.close()
    await sandbox?.close()
  })

  const { call: api, createSession } = sessionsApi(() => signing.url)

  it('signs page.pay with both SNs, pays, and the merchant confirms a response verified under the certificate', async () => {
    const order = await merchant.orders.create('证书模式', '0.03')
    const { data } = await merchant.orders.paymentData(order.orderId)
    const created = await createSession(data as Params)
    expect(created.status).toBe(201)
    const session = created.json as { sessionId: string; cashierUrl: string }
    expect(decodeForm(new URL(session.cashierUrl).search)).toMatchObject({
      app_id: DEMO_CERT_APP.appId,
      method: 'alipay.trade.page.pay',
      app_cert_sn: certificateSn(SANDBOX_APP_CERT),
      alipay_root_cert_sn: rootCertificateSn(SANDBOX_ROOT_CERT),
    })
    const location = await payAtCashier(session.cashierUrl)
    const returned = await api(`/api/sessions/${session.sessionId}/return`, { query: new URL(location).search })
    expect(returned.json.status).toBe('paid')
    const details = returned.json.outcome.details as Params
    // A certificate where a public key is expected: its key verifies.
    expect(await verifyPaymentResponse(details, { publicKey: SANDBOX_ALIPAY_CERT })).toMatchObject({ ok: true })
    expect(await merchant.orders.confirm(order.orderId, details)).toMatchObject({ status: 'success' })
    // The notification comes through the relay, verified under the certificate's key by both sides.
    await eventually(async () => (await merchant.store.notifies(order.orderId)).length > 0)
    expect((await merchant.store.notifies(order.orderId))[0]).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' })
  })

  it('refuses a request without the SNs, and one naming another root', async () => {
    const plain = createOpenapiClient({
      gatewayUrl: sandbox.gatewayUrl,
      appId: DEMO_CERT_APP.appId,
      privateKey: DEMO_CERT_APP.privateKey,
      publicKey: DEMO_GATEWAY_RSA.publicKey,
    })
    expect(await plain.call('alipay.trade.query', { out_trade_no: 'x' })).toMatchObject({
      ok: false,
      code: '40001',
      subCode: 'isv.missing-app-cert-sn',
    })
  })
})

describe('a renewed Alipay certificate', () => {
  async function sandboxSigningWith(cert: string, privateKey: string, name: string) {
    return startSandbox(
      demoSandboxConfig({
        port: 0,
        dbPath: `${tmp.dir}/${name}.db`,
        log: () => {},
        alipayCertificates: {
          rootCert: SANDBOX_ROOT_CERT,
          certs: [
            { cert: SANDBOX_ALIPAY_CERT, privateKey: DEMO_GATEWAY_RSA.privateKey },
            { cert, privateKey },
          ],
        },
      }),
    )
  }
  const clientOf = (sandbox: RunningSandbox) => {
    const certificates = loadOpenapiCertificates(certFiles())
    return {
      certificates,
      client: createOpenapiClient({
        gatewayUrl: sandbox.gatewayUrl,
        appId: DEMO_CERT_APP.appId,
        privateKey: DEMO_CERT_APP.privateKey,
        publicKey: '',
        certificates,
      }),
    }
  }

  it('is downloaded when a reply names it, checked against the root, and used from then on', async () => {
    const sandbox = await sandboxSigningWith(SANDBOX_ALIPAY_NEXT_CERT, SANDBOX_ALIPAY_NEXT_KEY, 'renewed')
    try {
      const { client, certificates } = clientOf(sandbox)
      expect(certificates.alipayCertSn).toBe(certificateSn(SANDBOX_ALIPAY_CERT))
      const reply = await client.call('alipay.trade.precreate', {
        out_trade_no: `NEXT${Date.now()}`,
        total_amount: '0.05',
        subject: 'renewed',
      })
      expect(reply).toMatchObject({ ok: true })
      expect(certificates.alipayCertSn).toBe(certificateSn(SANDBOX_ALIPAY_NEXT_CERT))
      expect(client.publicKey).toBe(certificatePublicKey(SANDBOX_ALIPAY_NEXT_CERT))
      expect((await client.call('alipay.trade.query', { out_trade_no: 'none' })).ok).toBe(false)
    } finally {
      await sandbox.close()
    }
  })

  it('is refused when it does not chain to the configured root', async () => {
    const sandbox = await sandboxSigningWith(SANDBOX_ROGUE_ALIPAY_CERT, DEMO_GATEWAY_RSA.privateKey, 'rogue')
    try {
      const { client, certificates } = clientOf(sandbox)
      const error = await client.call('alipay.trade.query', { out_trade_no: 'x' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(GatewayError)
      expect(error).toMatchObject({ code: 'GATEWAY_BAD_SIGNATURE', message: expect.stringContaining('chain') })
      expect(certificates.alipayCertSn).toBe(certificateSn(SANDBOX_ALIPAY_CERT))
    } finally {
      await sandbox.close()
    }
  })
})

describe('certificate-mode partner config', () => {
  const base = {
    kind: 'openapi',
    partner: DEMO_CERT_APP.sellerId,
    appId: DEMO_CERT_APP.appId,
    privateKey: DEMO_CERT_APP.privateKey,
    allowedOrigins: [MERCHANT_ORIGIN],
  }
  it('needs all three certificates, and Alipay one that chains to the root', async () => {
    expect(
      await findPartnerIssues([
        {
          ...base,
          alipayCertPath: SANDBOX_ALIPAY_CERT,
          appCertPath: SANDBOX_APP_CERT,
          rootCertPath: SANDBOX_ROOT_CERT,
        },
      ]),
    ).toEqual([])
    expect(await findPartnerIssues([{ ...base, alipayCertPath: SANDBOX_ALIPAY_CERT }])).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: ['appCertPath'] })]),
    )
    const rogue = await findPartnerIssues([
      {
        ...base,
        alipayCertPath: SANDBOX_ROGUE_ALIPAY_CERT,
        appCertPath: SANDBOX_APP_CERT,
        rootCertPath: SANDBOX_ROOT_CERT,
      },
    ])
    expect(rogue).toEqual([expect.objectContaining({ path: ['alipayCertPath'] })])
    expect(rogue[0]!.message).toContain('chain')
  })
})

describe('certificate mode from the environment', () => {
  it('builds a certificate-mode partner from ALIPAY_*_CERT_PATH instead of ALIPAY_PUBLIC_KEY', async () => {
    const appCertPath = `${tmp.dir}/env-app.crt`
    writeFileSync(appCertPath, SANDBOX_APP_CERT)
    const configs = readPartnerConfigs({
      ALIPAY_GATEWAY_KIND: 'openapi',
      ALIPAY_APP_ID: DEMO_CERT_APP.appId,
      ALIPAY_APP_PRIVATE_KEY: DEMO_CERT_APP.privateKey,
      ALIPAY_APP_SELLER_ID: DEMO_CERT_APP.sellerId,
      ALIPAY_PUBLIC_CERT_PATH: SANDBOX_ALIPAY_CERT,
      ALIPAY_APP_CERT_PATH: appCertPath,
      ALIPAY_ROOT_CERT_PATH: SANDBOX_ROOT_CERT,
      ALIPAY_ALLOWED_ORIGINS: MERCHANT_ORIGIN,
    })
    const registry = await createPartnerRegistry(configs)
    const certificates = registry.gatewayCertificates(DEMO_CERT_APP.sellerId)
    expect(certificates).toMatchObject({
      appCertSn: certificateSn(SANDBOX_APP_CERT),
      rootCertSn: rootCertificateSn(SANDBOX_ROOT_CERT),
      alipayCertSn: certificateSn(SANDBOX_ALIPAY_CERT),
    })
    expect(registry.gatewayKeys(DEMO_CERT_APP.sellerId).publicKey).toBe(certificatePublicKey(SANDBOX_ALIPAY_CERT))
  })
})
