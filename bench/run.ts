// `npm run bench`: every suite, one table, and bench/results.json with machine information.
// `npm run bench -- relay browser` runs only the suites whose names contain one of the words.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import type { BenchRow, BenchSuite } from './row.js'
import { browserSuite } from './suites/browser.js'
import { protocolSuite } from './suites/protocol.js'
import { relayClientSuite } from './suites/relay-client.js'
import { relaySuite } from './suites/relay.js'
import { revokeSuite } from './suites/revoke.js'
import { relayStoresSuite } from './suites/relay-stores.js'
import { sessionsSuite } from './suites/sessions.js'
import { sizesSuite } from './suites/sizes.js'
import { startupSuite } from './suites/startup.js'
import { timeToPaidSuite } from './suites/time-to-paid.js'

const all: BenchSuite[] = [
  protocolSuite,
  sizesSuite,
  startupSuite,
  sessionsSuite,
  relayClientSuite,
  relaySuite,
  relayStoresSuite,
  timeToPaidSuite,
  revokeSuite,
  browserSuite,
]
const wanted = process.argv.slice(2).map((word) => word.toLowerCase())
const suites = wanted.length ? all.filter((s) => wanted.some((w) => s.name.includes(w))) : all

function verdict(row: BenchRow): string {
  if (row.met === undefined) return 'report'
  return row.met ? 'met' : 'MISSED'
}

const results: (BenchRow & { suite: string })[] = []
const started = performance.now()
for (const suite of suites) {
  process.stdout.write(`[alipay] bench: ${suite.name}…\n`)
  const t0 = performance.now()
  // A suite that fails is a missed row, not the end of the run: the table still comes out.
  const rows = await suite.run().catch((error: unknown): BenchRow[] => [
    {
      what: `${suite.name}: the suite failed`,
      figure: Number.NaN,
      unit: '',
      target: 'runs',
      met: false,
      note: error instanceof Error ? error.message.split('\n')[0] : String(error),
    },
  ])
  for (const row of rows) results.push({ suite: suite.name, ...row })
  process.stdout.write(`[alipay] bench: ${suite.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
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
// Notes are too wide for the table: numbered below it, in the same order.
results.forEach((r, i) => r.note && console.log(`  ${i}: ${r.note}`))
const missed = results.filter((r) => r.met === false)
console.log(
  missed.length
    ? `[alipay] ${missed.length} target(s) MISSED: ${missed.map((r) => r.what).join('; ')}`
    : '[alipay] every judged target met',
)
console.log(`[alipay] bench took ${((performance.now() - started) / 1000).toFixed(0)} s`)

const machine = {
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  date: new Date().toISOString(),
  loadAverage: os.loadavg().map((n) => Number(n.toFixed(2))),
}
// Other keys (the chaos suite's `chaos` figures) belong to other runs: keep them.
const resultsFile = fileURLToPath(new URL('./results.json', import.meta.url))
const previous = existsSync(resultsFile)
  ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>)
  : {}
writeFileSync(resultsFile, `${JSON.stringify({ ...previous, machine, results }, null, 2)}\n`)
console.log(`[alipay] wrote bench/results.json (${results.length} rows)`)
