// `npm run bench`: every suite, one table, and bench/results.json with machine information.
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import type { BenchRow, BenchSuite } from './row'
import { protocolSuite } from './suites/protocol'

const suites: BenchSuite[] = [protocolSuite]

function verdict(row: BenchRow): string {
  if (row.met === undefined) return 'report'
  return row.met ? 'met' : 'MISSED'
}

const results: (BenchRow & { suite: string })[] = []
for (const suite of suites) {
  process.stdout.write(`[alipay] bench: ${suite.name}…\n`)
  for (const row of await suite.run()) results.push({ suite: suite.name, ...row })
}

const table = results.map((r) => ({
  what: r.what,
  figure: `${r.figure} ${r.unit}`,
  reference: r.reference ? `${r.reference.what}: ${r.reference.figure} ${r.unit}` : '—',
  ratio: r.ratio === undefined ? '—' : `${r.ratio}×`,
  target: r.target,
  verdict: verdict(r),
}))
console.table(table)

const machine = {
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  date: new Date().toISOString(),
}
writeFileSync(
  fileURLToPath(new URL('./results.json', import.meta.url)),
  `${JSON.stringify({ machine, results }, null, 2)}\n`,
)
console.log(`[alipay] wrote bench/results.json (${results.length} rows)`)
