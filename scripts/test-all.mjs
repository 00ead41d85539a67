#!/usr/bin/env node
// `npm test`: typecheck, lint, build, unit tests, browser and end-to-end tests and the consumer test, in
// that order, all of them even when one fails, then one summary line `N passed, N failed` that CI reads.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const reports = join(root, 'test-results', 'reports')
rmSync(reports, { recursive: true, force: true })
mkdirSync(reports, { recursive: true })

const bin = (name) => join(root, 'node_modules', '.bin', name)

/** Each step: a command, and how to count its tests (steps without tests count as one check). */
const steps = [
  { name: 'typecheck', command: ['npm', 'run', '--silent', 'typecheck'] },
  { name: 'lint', command: ['npm', 'run', '--silent', 'lint'] },
  // Every package's dist (and the size budgets): tests that run the bins need them built.
  { name: 'build', command: ['npm', 'run', '--silent', 'build'] },
  {
    name: 'unit',
    command: [
      bin('vitest'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile=${join(reports, 'unit.json')}`,
    ],
    count: () => countVitest(join(reports, 'unit.json')),
  },
  {
    // Firefox (puppeteer-core) and WebKit (selenium-webdriver, Xvfb) runs of the polyfill's popup flow.
    name: 'browsers',
    command: [
      bin('vitest'),
      'run',
      '-c',
      'tests/browsers/vitest.config.ts',
      '--reporter=default',
      '--reporter=json',
      `--outputFile=${join(reports, 'browsers.json')}`,
    ],
    count: () => countVitest(join(reports, 'browsers.json')),
  },
  {
    name: 'e2e',
    command: [bin('playwright'), 'test', '-c', 'tests/e2e/playwright.config.ts', '--reporter=list,json'],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: join(reports, 'e2e.json') },
    count: () => countPlaywright(join(reports, 'e2e.json')),
  },
  {
    // The packages as a merchant installs them: pack, install outside the repo, types, require(), a payment.
    name: 'consumer',
    command: [bin('tsx'), 'tests/consumer/run.ts'],
    count: () => countReport(join(reports, 'consumer.json')),
  },
]

function countReport(file) {
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8'))
}

function countVitest(file) {
  if (!existsSync(file)) return undefined
  const json = JSON.parse(readFileSync(file, 'utf8'))
  const names = json.testResults.flatMap((suite) => {
    const where = suite.name.replace(`${root}/`, '')
    const tests = suite.assertionResults.filter((test) => test.status !== 'passed')
    // A file that failed to load has no test results, only its message.
    if (suite.status === 'failed' && tests.length === 0) return [`${where}: ${firstLine(suite.message)}`]
    return tests.map((test) => `${where} › ${test.fullName} (${test.status})`)
  })
  return { passed: json.numPassedTests, failed: json.numFailedTests + (json.numPendingTests ?? 0), names }
}

function firstLine(text = '') {
  return text.split('\n').find((line) => line.trim() !== '') ?? 'failed to run'
}

function countPlaywright(file) {
  if (!existsSync(file)) return undefined
  const { stats } = JSON.parse(readFileSync(file, 'utf8'))
  // Skipped tests count as failures: a skipped test hides a defect.
  return {
    passed: stats.expected,
    failed: stats.unexpected + stats.flaky + stats.skipped,
    names: playwrightFailures(JSON.parse(readFileSync(file, 'utf8')).suites),
  }
}

function playwrightFailures(suites, titles = []) {
  return suites.flatMap((suite) => [
    ...playwrightFailures(suite.suites ?? [], [...titles, suite.title]),
    ...(suite.specs ?? []).flatMap((spec) =>
      spec.tests
        .filter((test) => test.status !== 'expected')
        .map((test) => `${[...titles, spec.title].filter(Boolean).join(' › ')} (${test.status})`),
    ),
  ])
}

let passed = 0
let failed = 0
const lines = []
// The names of failed tests go at the end too, where a log cut to its tail still shows them.
const failures = []
for (const step of steps) {
  const started = Date.now()
  console.log(`\n[alipay] ── ${step.name} ──`)
  const result = spawnSync(step.command[0], step.command.slice(1), {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...step.env },
  })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  const counted = step.count?.()
  if (counted) {
    // A runner that exits non-zero without a failed test (crash, no tests found) is a failure too.
    const extra = result.status !== 0 && counted.failed === 0 ? 1 : 0
    passed += counted.passed
    failed += counted.failed + extra
    lines.push(`${step.name}: ${counted.passed} passed, ${counted.failed + extra} failed (${seconds}s)`)
    failures.push(...counted.names.map((name) => `  ✗ ${step.name}: ${name}`))
  } else if (result.status === 0) {
    passed += 1
    lines.push(`${step.name}: ok (${seconds}s)`)
  } else {
    failed += 1
    lines.push(`${step.name}: FAILED (${seconds}s)`)
  }
}

if (failures.length > 0) console.log(`\n[alipay] ── failed ──\n${failures.join('\n')}`)
console.log(`\n[alipay] ── summary ──\n${lines.join('\n')}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
