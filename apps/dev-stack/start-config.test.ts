import { expect, it } from 'vitest'
import { StartConfigError, readStartConfig } from './start-config.js'

it('defaults to the sandbox on ports 4100, 4200 and 4300 with data in .data', () => {
  expect(readStartConfig({})).toEqual({
    ports: { merchant: 4100, app: 4200, gateway: 4300 },
    dataDir: '.data',
    merchantOrigin: undefined,
    appOrigin: undefined,
  })
})

it('moves the payment app and the shop onto PostgreSQL with DATABASE_URL=postgres://…, and keeps SQLite otherwise', () => {
  const url = 'postgres://shop@127.0.0.1:5432/alipay'
  expect(readStartConfig({ DATABASE_URL: url }).databaseUrl).toBe(url)
  expect(readStartConfig({ DATABASE_URL: '/var/lib/alipay/orders.db' }).databaseUrl).toBeUndefined()
})

it('refuses a port that is not a number with one clear line', () => {
  expect(() => readStartConfig({ APP_PORT: 'eighty' })).toThrow(StartConfigError)
  expect(() => readStartConfig({ APP_PORT: 'eighty' })).toThrow(/^\[alipay\] APP_PORT=eighty is not a port number/)
})

it('switches to the real gateway with ALIPAY_GATEWAY_URL and takes the partner from ALIPAY_*', () => {
  const options = readStartConfig({
    ALIPAY_GATEWAY_URL: 'https://mapi.alipay.com/gateway.do',
    ALIPAY_PARTNER: '2088000000000001',
    ALIPAY_MD5_KEY: 'a'.repeat(32),
    MERCHANT_ORIGIN: 'https://shop.example',
    ALIPAY_ALLOWED_ORIGINS: 'https://other.example',
  })
  expect(options.real?.gatewayUrl).toBe('https://mapi.alipay.com/gateway.do')
  expect(options.real?.partner).toMatchObject({
    partner: '2088000000000001',
    md5Key: 'a'.repeat(32),
    allowedOrigins: ['https://other.example', 'https://shop.example'],
  })
})

it('says what is missing when the real gateway is set without a partner', () => {
  expect(() => readStartConfig({ ALIPAY_GATEWAY_URL: 'https://mapi.alipay.com/gateway.do' })).toThrow(
    /also set ALIPAY_PARTNER and its keys/,
  )
  expect(() => readStartConfig({ ALIPAY_GATEWAY_URL: 'mapi' })).toThrow(/is not a URL/)
})

it('runs the sandbox stack on openapi with ALIPAY_GATEWAY_KIND=openapi, and refuses another kind', () => {
  expect(readStartConfig({ ALIPAY_GATEWAY_KIND: 'openapi' })).toMatchObject({ gatewayKind: 'openapi' })
  expect(() => readStartConfig({ ALIPAY_GATEWAY_KIND: 'soap' })).toThrow(/ALIPAY_GATEWAY_KIND=soap/)
  // Against the real openapi gateway the app comes from ALIPAY_APP_*; without it, one clear line.
  expect(() =>
    readStartConfig({ ALIPAY_GATEWAY_KIND: 'openapi', ALIPAY_GATEWAY_URL: 'https://openapi.alipay.com/gateway.do' }),
  ).toThrow(/ALIPAY_APP_ID/)
})
