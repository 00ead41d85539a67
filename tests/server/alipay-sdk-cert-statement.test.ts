import { AlipaySdk } from 'alipay-sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatBeijingTime, parseStatement, type StatementRow } from '@alipay-payment-handler/protocol'
import {
  DEMO_APP,
  DEMO_CERT_APP,
  DEMO_GATEWAY_RSA,
  SANDBOX_ALIPAY_CERT,
  SANDBOX_APP_CERT,
  SANDBOX_ROOT_CERT,
} from '@alipay-payment-handler/sandbox/testing'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { tempDir } from '../support/harness.js'

/**
 * Alipay's own Node SDK as an outside client of the statement URL and of certificate mode: it
 * signs with its own code, sends its own SNs, and checks the sandbox's signatures itself.
 */
describe('alipay-sdk against the statement URL and certificate mode', () => {
  const tmp = tempDir('alipay-sdk-cert-')
  let sandbox: RunningSandbox

  beforeAll(async () => {
    sandbox = await startSandbox(
      demoSandboxConfig({
        port: 0,
        dbPath: `${tmp.dir}/sandbox.db`,
        openapiTimestampToleranceSeconds: 0,
        log: () => {},
      }),
    )
  })
  afterAll(async () => {
    await sandbox?.close()
    tmp.cleanup()
  })

  const certSdk = (files: { alipayPublicCertContent?: string; alipayPublicCertPath?: string } = {}) =>
    new AlipaySdk({
      appId: DEMO_CERT_APP.appId,
      privateKey: DEMO_CERT_APP.privateKey,
      keyType: 'PKCS8',
      appCertContent: SANDBOX_APP_CERT,
      alipayRootCertContent: SANDBOX_ROOT_CERT,
      alipayPublicCertContent: SANDBOX_ALIPAY_CERT,
      ...files,
      gateway: sandbox.gatewayUrl,
    })

  it('in certificate mode, sends its SNs and accepts the reply signed under the certificate it holds', async () => {
    const sdk = certSdk()
    const result = await sdk.exec('alipay.trade.precreate', {
      bizContent: { out_trade_no: `CERT${Date.now()}`, total_amount: '0.10', subject: 'cert mode' },
    })
    expect(result).toMatchObject({ code: '10000', qrCode: expect.stringContaining('/qr/') })
    // The certificate download, as the SDK would call it, verified by the SDK too.
    const sn = (sdk.config as { alipayCertSn?: string }).alipayCertSn!
    const download = await sdk.exec('alipay.open.app.alipaycert.download', { bizContent: { alipay_cert_sn: sn } })
    expect(Buffer.from(String(download['alipayCertContent']), 'base64').toString()).toBe(SANDBOX_ALIPAY_CERT)
  })

  it('the sandbox refuses a certificate-mode request that names another app certificate', async () => {
    const sdk = certSdk()
    ;(sdk.config as { appCertSn?: string }).appCertSn = '0'.repeat(32)
    const result = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'nope' } })
    expect(result).toMatchObject({ code: '40002', subCode: 'isv.invalid-app-cert-sn' })
  })

  it('asks for the statement URL and downloads a zip that protocol parses', async () => {
    const sdk = new AlipaySdk({
      appId: DEMO_APP.appId,
      privateKey: DEMO_APP.privateKey,
      keyType: 'PKCS8',
      alipayPublicKey: DEMO_GATEWAY_RSA.publicKey,
      gateway: sandbox.gatewayUrl,
    })
    const yesterday = formatBeijingTime(new Date(Date.now() - 24 * 3600_000)).slice(0, 10)
    const result = await sdk.exec('alipay.data.dataservice.bill.downloadurl.query', {
      bizContent: { bill_type: 'trade', bill_date: yesterday },
    })
    expect(result).toMatchObject({ code: '10000', billDownloadUrl: expect.stringContaining('downloadBillFile') })
    const rows: StatementRow[] = []
    for await (const row of parseStatement((await fetch(String(result['billDownloadUrl']))).body!)) rows.push(row)
    expect(rows.filter((r) => r.kind === 'summary')).toHaveLength(1)
    const today = formatBeijingTime(new Date()).slice(0, 10)
    expect(
      await sdk.exec('alipay.data.dataservice.bill.downloadurl.query', {
        bizContent: { bill_type: 'trade', bill_date: today },
      }),
    ).toMatchObject({ code: '40004', subCode: 'isp.bill_not_exist' })
  })
})
