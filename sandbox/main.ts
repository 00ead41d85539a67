import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { demoSandboxConfig } from './config'
import { startSandbox } from './server'

// CLI: `npm run sandbox [-- --port 4300 --db .data/sandbox.db --time-scale 0.01]`.
// Flags win over the environment (PORT, SANDBOX_DB, SANDBOX_TIME_SCALE, SANDBOX_HOST).
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    db: { type: 'string' },
    'time-scale': { type: 'string' },
    host: { type: 'string' },
  },
})

const port = Number(values.port ?? process.env['PORT'] ?? 4300)
const dbPath = values.db ?? process.env['SANDBOX_DB'] ?? '.data/sandbox.db'
const timeScale = Number(values['time-scale'] ?? process.env['SANDBOX_TIME_SCALE'] ?? 1)
const hostname = values.host ?? process.env['SANDBOX_HOST'] ?? '127.0.0.1'

if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true })
const sandbox = await startSandbox(demoSandboxConfig({ port, dbPath, timeScale, hostname }))
console.log(`[alipay-sandbox] gateway ${sandbox.gatewayUrl} (db ${dbPath}, time scale ${timeScale})`)
console.log(`[alipay-sandbox] inspector ${sandbox.url}/_sandbox/inspector`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0))
  })
}
