import { describe, expect, it } from 'vitest'
import { signParams, verifyParams } from '@alipay-payment-handler/protocol'
import { DEMO_APP, DEMO_GATEWAY_RSA, DEMO_MERCHANT_RSA } from '@alipay-payment-handler/sandbox/testing'
import { demoOpenapiPartnerConfig, demoPartnerConfig } from '../../../tests/support/demo-partners.js'
import {
  ConfigError,
  createPartnerRegistry,
  findPartnerIssues,
  readPartnerConfigs,
  readPartnerSources,
} from './partners.js'

describe('partners choose their gateway by configuration', () => {
  it('keeps mapi the default kind', async () => {
    const registry = await createPartnerRegistry([demoPartnerConfig()])
    expect(registry.list()[0]).toMatchObject({ kind: 'mapi', signType: 'MD5' })
    expect(registry.list()[0]?.appId).toBeUndefined()
  })

  it('takes an openapi app with the seed names, RSA2, and Alipay’s public key for the gateway', async () => {
    const registry = await createPartnerRegistry([demoOpenapiPartnerConfig()])
    const info = registry.get(DEMO_APP.sellerId)
    expect(info).toMatchObject({ kind: 'openapi', appId: DEMO_APP.appId, signType: 'RSA2' })
    expect(info?.merchantSignTypes).toEqual(['RSA', 'RSA2'])
    expect(registry.gatewayKeys(DEMO_APP.sellerId)).toEqual({
      md5Key: undefined,
      privateKey: DEMO_APP.privateKey,
      publicKey: DEMO_GATEWAY_RSA.publicKey,
    })
    // Method data signed with the app key verifies with the derived public half, and with no other key.
    const data = await signParams(
      { service: 'mobile.securitypay.pay', partner: DEMO_APP.sellerId, total_fee: '1.00' },
      { signType: 'RSA2', keys: { privateKey: DEMO_APP.privateKey } },
    )
    const keys = registry.merchantKeys(DEMO_APP.sellerId)
    expect(await verifyParams(data, { keys })).toMatchObject({ ok: true })
    const other = await signParams(data, { signType: 'RSA2', keys: { privateKey: DEMO_MERCHANT_RSA.privateKey } })
    expect(await verifyParams(other, { keys })).toMatchObject({ ok: false })
  })

  it('refuses an openapi partner without its app id, keys, or with MD5, naming the field', async () => {
    for (const field of ['appId', 'privateKey', 'publicKey'] as const) {
      const error = await createPartnerRegistry([demoOpenapiPartnerConfig({ [field]: undefined })]).catch((e) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toContain(`"${field}"`)
    }
    await expect(createPartnerRegistry([demoOpenapiPartnerConfig({ signType: 'MD5' })])).rejects.toThrow(/not MD5/)
    await expect(createPartnerRegistry([demoOpenapiPartnerConfig({ appId: '2021' })])).rejects.toThrow(/16 digits/)
  })

  it('lets a partner name its own gateway.do, and refuses one that is not an http(s) URL without a query', async () => {
    const registry = await createPartnerRegistry([
      demoOpenapiPartnerConfig({ gatewayUrl: 'https://openapi.alipay.com/gateway.do' }),
    ])
    expect(registry.get(DEMO_APP.sellerId)?.gatewayUrl).toBe('https://openapi.alipay.com/gateway.do')
    expect((await createPartnerRegistry([demoPartnerConfig()])).list()[0]?.gatewayUrl).toBeUndefined()
    for (const gatewayUrl of [
      'openapi.alipay.com/gateway.do',
      'ftp://x/gateway.do',
      'https://x/gateway.do?charset=utf-8',
    ]) {
      const error = await createPartnerRegistry([demoOpenapiPartnerConfig({ gatewayUrl })]).catch((e) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toContain('"gatewayUrl"')
    }
  })

  it('reads one openapi partner from the environment with ALIPAY_GATEWAY_KIND=openapi', async () => {
    const configs = readPartnerConfigs({
      ALIPAY_GATEWAY_KIND: 'openapi',
      ALIPAY_APP_ID: DEMO_APP.appId,
      ALIPAY_APP_PRIVATE_KEY: DEMO_APP.privateKey,
      ALIPAY_PUBLIC_KEY: DEMO_GATEWAY_RSA.publicKey,
      ALIPAY_APP_SELLER_ID: DEMO_APP.sellerId,
      ALIPAY_ALLOWED_ORIGINS: 'https://shop.example',
    })
    expect(configs).toEqual([
      expect.objectContaining({ kind: 'openapi', partner: DEMO_APP.sellerId, appId: DEMO_APP.appId }),
    ])
    const registry = await createPartnerRegistry(configs)
    expect(registry.list()[0]).toMatchObject({ kind: 'openapi', allowedOrigins: ['https://shop.example'] })
  })

  it('lists every problem of every entry with its key path (findPartnerIssues); the registry throws the first', async () => {
    const configs = [
      { partner: '2088000000000001', md5Key: 'short', allowedOrigins: ['https://shop.example/'] },
      demoOpenapiPartnerConfig({ appId: undefined, publicKey: undefined }),
      demoPartnerConfig({ partner: '2088000000000003', signType: 'RSA2', privateKey: undefined }),
    ]
    const issues = await findPartnerIssues(configs)
    expect(issues.map(({ index, path, problem }) => [index, path.join('.'), problem])).toEqual([
      [0, 'md5Key', 'must be 32 letters or digits'],
      [0, 'allowedOrigins.0', expect.stringMatching(/^must be an origin/)],
      [1, 'appId', 'is missing: an openapi partner needs its app id'],
      [1, 'publicKey', "is missing: an openapi partner needs Alipay's public key"],
      [2, 'privateKey', 'is missing: signType RSA2 signs with the RSA private key'],
    ])
    const error = await createPartnerRegistry(configs).catch((e) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toBe(`[alipay-server] ${issues[0]!.message}`)
    expect(
      await findPartnerIssues([demoPartnerConfig(), demoOpenapiPartnerConfig({ partner: '2088000000000009' })]),
    ).toEqual([])
  })

  it('says which variable each field of the environment’s partner came from (readPartnerSources)', () => {
    const { sources, problems } = readPartnerSources({
      ALIPAY_PARTNER: '2088000000000001',
      ALIPAY_MD5_KEY_FILE: '/nonexistent/md5.key',
      ALIPAY_ALLOWED_ORIGINS: 'https://shop.example',
    })
    expect(problems).toEqual([
      expect.objectContaining({ variable: 'ALIPAY_MD5_KEY_FILE', problem: expect.stringMatching(/^cannot read /) }),
    ])
    expect(sources[0]?.origin).toMatchObject({
      kind: 'env',
      variables: { partner: 'ALIPAY_PARTNER', md5Key: 'ALIPAY_MD5_KEY_FILE', privateKey: 'ALIPAY_PRIVATE_KEY' },
    })
    expect(() =>
      readPartnerConfigs({ ALIPAY_PARTNER: '2088000000000001', ALIPAY_MD5_KEY_FILE: '/nonexistent/md5.key' }),
    ).toThrow(/ALIPAY_MD5_KEY_FILE: cannot read \/nonexistent\/md5\.key/)
  })
})
