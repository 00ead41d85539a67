import { mkdtempSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'
import { openPgOrderStore, openSqliteOrderStore } from '@alipay-payment-handler/merchant'
import { silentLogger } from '@alipay-payment-handler/server-runtime'
import { createTestDatabase } from '@alipay-payment-handler/testing/postgres'
import { startMerchant, shopReadiness, type RunningMerchant } from './server.js'
import { openShopLedger } from './shop-ledger.js'

let dataDir: string
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'merchant-ready-'))
})
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

/** A GET with a Host of our choosing (fetch sends the URL's own). */
const statusWithHost = (url: string, host: string) =>
  new Promise<number>((resolve, reject) => {
    get(url, { headers: { host } }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    }).on('error', reject)
  })

describe('the shop’s /healthz and /readyz', () => {
  let merchant: RunningMerchant
  beforeAll(async () => {
    merchant = await startMerchant({
      port: 0,
      appOrigin: 'http://localhost:4200',
      // Nothing listens there: the probes never call the gateway.
      gatewayUrl: 'http://127.0.0.1:9/gateway.do',
      partner: demoPartnerConfig(),
      dataDir: join(dataDir, 'shop'),
      logger: silentLogger(),
    })
  })
  afterAll(() => merchant.close())

  it('is live and ready once its databases are open and migrated, on any Host', async () => {
    const live = await fetch(`${merchant.url}/healthz`)
    expect(live.status).toBe(200)
    expect(await live.json()).toEqual({ ok: true })
    const ready = await fetch(`${merchant.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(ready.headers.get('cache-control')).toBe('no-store')
    expect(await ready.json()).toEqual({ ok: true })
    // The orchestrator probes the pod's address, not the shop's name.
    expect(await statusWithHost(`${merchant.url}/readyz`, '10.1.2.3:4100')).toBe(200)
    expect(await statusWithHost(`${merchant.url}/healthz`, '10.1.2.3:4100')).toBe(200)
    // The rest of the shop still refuses a Host that is not its own.
    expect(await statusWithHost(`${merchant.url}/api/products`, '10.1.2.3:4100')).toBe(421)
  })
})

describe('shopReadiness', () => {
  it('is ready with both databases open, and says which one does not answer', async () => {
    const store = openSqliteOrderStore(join(dataDir, 'orders.db'))
    const ledger = openShopLedger(join(dataDir, 'shop.db'))
    expect(await shopReadiness(store, ledger)).toBeUndefined()
    ledger.close()
    expect(await shopReadiness(store, ledger)).toBe('the shop database does not answer')
    await store.close()
    expect(await shopReadiness(store, ledger)).toBe('the order database does not answer')
  })

  it('is not ready while the order database misses migrations', async () => {
    const database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
    const ledger = openShopLedger(':memory:')
    const store = await openPgOrderStore(database.url, { migrate: false, max: 1 })
    try {
      expect(await shopReadiness(store, ledger)).toMatch(/^the order database misses \d+ migration\(s\)$/)
    } finally {
      await store.close()
      ledger.close()
      await database.drop()
    }
  })
})
