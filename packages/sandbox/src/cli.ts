#!/usr/bin/env node
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { demoSandboxConfig } from './config.js'
import { DEMO_APP, DEMO_BUYER, DEMO_PARTNER, DEMO_POOR_BUYER } from './demo-accounts.js'
import { startSandbox } from './server.js'

// `alipay-sandbox [--port 4300] [--db .data/sandbox.db] [--time-scale 0.01] [--host 127.0.0.1]`:
// a local mapi + openapi gateway that runs until Ctrl-C, printing the accounts it knows.
// Flags win over the environment (PORT, SANDBOX_DB, SANDBOX_TIME_SCALE, SANDBOX_HOST).
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    db: { type: 'string' },
    'time-scale': { type: 'string' },
    host: { type: 'string' },
    quiet: { type: 'boolean' },
  },
})

const port = Number(values.port ?? process.env['PORT'] ?? 4300)
const dbPath = values.db ?? process.env['SANDBOX_DB'] ?? '.data/sandbox.db'
const timeScale = Number(values['time-scale'] ?? process.env['SANDBOX_TIME_SCALE'] ?? 1)
const hostname = values.host ?? process.env['SANDBOX_HOST'] ?? '127.0.0.1'

if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true })
const sandbox = await startSandbox(demoSandboxConfig({ port, dbPath, timeScale, hostname }))
const lines = [
  `[alipay-sandbox] gateway   ${sandbox.gatewayUrl} (mapi and openapi; db ${dbPath}, time scale ${timeScale})`,
  `[alipay-sandbox] inspector ${sandbox.url}/_sandbox/inspector`,
  `[alipay-sandbox] mapi partner ${DEMO_PARTNER.partner}, MD5 key ${DEMO_PARTNER.md5Key} (public test key)`,
  `[alipay-sandbox] openapi app  ${DEMO_APP.appId}, seller ${DEMO_APP.sellerId}`,
  `[alipay-sandbox] buyers ${DEMO_BUYER.login} / ${DEMO_BUYER.password} (${DEMO_BUYER.balance} yuan), ` +
    `${DEMO_POOR_BUYER.login} / ${DEMO_POOR_BUYER.password} (${DEMO_POOR_BUYER.balance} yuan)`,
  `[alipay-sandbox] for alipay-payment-app: ALIPAY_GATEWAY_URL=${sandbox.gatewayUrl} ALIPAY_PARTNER=${DEMO_PARTNER.partner} ` +
    `ALIPAY_MD5_KEY=${DEMO_PARTNER.md5Key} ALIPAY_ALLOWED_ORIGINS=<your shop origin>`,
]
console.log(values.quiet ? lines[0] : lines.join('\n'))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0))
  })
}
