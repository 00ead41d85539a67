import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { demoSandboxConfig, startSandbox } from '@alipay-payment-handler/sandbox'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { judgeRatio, type BenchRow, type BenchSuite } from '../row.js'
import { freePort, median, round } from '../support/stats.js'

// The published bin as a deployment runs it: plain node on the built dist, no tsx, no source condition.
const APP_BIN = fileURLToPath(new URL('../../packages/payment-app/dist/cli.cjs', import.meta.url))
/** The bin's V8 code cache (packages/payment-app/src/code-cache.ts); without it a start compiles the bundle. */
const APP_CODE_CACHE = fileURLToPath(new URL('../../packages/payment-app/dist/cli-bundle.cache', import.meta.url))
const RUNS = 5

/** Spawns `args` and polls `url` until it answers 200: milliseconds from spawn to that answer. */
async function timeToAnswer(args: string[], env: NodeJS.ProcessEnv, url: string): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before answering: ${stderr}`)
      const ok = await fetch(url).then(
        (response) => response.body?.cancel().then(() => response.ok) ?? response.ok,
        () => false,
      )
      if (ok) return performance.now() - started
      if (performance.now() - started > 30_000) throw new Error(`no answer from ${url} in 30 s: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  } finally {
    child.kill('SIGKILL')
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))
  }
}

export const startupSuite: BenchSuite = {
  name: 'startup',
  async run() {
    const sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => {} }))
    const dir = mkdtempSync(join(tmpdir(), 'alipay-bench-start-'))
    const ours: number[] = []
    const bare: number[] = []
    try {
      // Alternate the two, so a busy moment of the machine falls on both sides alike.
      for (let run = 0; run < RUNS; run++) {
        const port = await freePort()
        const env = {
          PATH: process.env['PATH'],
          ALIPAY_GATEWAY_URL: sandbox.gatewayUrl,
          ALIPAY_PARTNER: DEMO_PARTNER.partner,
          ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
          ALIPAY_ALLOWED_ORIGINS: 'http://localhost:4100',
          LOG_LEVEL: 'error',
        }
        const args = [APP_BIN, '--port', String(port), '--db', join(dir, `start-${run}.db`)]
        ours.push(await timeToAnswer(args, env, `http://127.0.0.1:${port}/readyz`))
        const barePort = await freePort()
        const server = `require('node:http').createServer((q, s) => s.end('ok')).listen(${barePort}, '127.0.0.1')`
        bare.push(await timeToAnswer(['-e', server], { PATH: process.env['PATH'] }, `http://127.0.0.1:${barePort}/`))
      }
    } finally {
      await sandbox.close()
      rmSync(dir, { recursive: true, force: true })
    }
    const ratio = median(ours) / median(bare)
    const spread = (values: number[]) => `${round(Math.min(...values))}–${round(Math.max(...values))} ms`
    const row: BenchRow = {
      what: `alipay-payment-app start → /readyz ok, SQLite (median of ${RUNS})`,
      figure: round(median(ours)),
      unit: 'ms',
      reference: { what: 'node -e of an empty HTTP server', figure: round(median(bare)) },
      ratio: Number(ratio.toFixed(2)),
      target: '≤ 3×',
      met: judgeRatio(ratio, 3),
      note: `spread: ours ${spread(ours)}, bare ${spread(bare)}; the bin's code cache ${existsSync(APP_CODE_CACHE) ? 'present' : 'ABSENT'}; /readyz answers once the database is open and migrated (it makes no gateway call)`,
    }
    return [row]
  },
}
