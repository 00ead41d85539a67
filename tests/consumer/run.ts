// `npm run test:consumer`: the kit as a dependency. Packs every public package, installs the
// tarballs into a fresh project in the system's temp folder (registry dependencies only, no path
// back into this repository), then checks (a) types under NodeNext with skipLibCheck off, (b) every
// entry point under require(), (c) an Express shop that pays one order in Chromium through the
// native payment handler, with the bins as separate processes. Prints one line per check and the
// figures (tarball sizes, install time); writes test-results/reports/consumer.json for npm test.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PROJECT_FILES = fileURLToPath(new URL('./project/', import.meta.url))
const REPORT = join(ROOT, 'test-results', 'reports', 'consumer.json')
const PACKAGES = [
  'protocol',
  'server-runtime',
  'gateway-client',
  'polyfill',
  'handler',
  'sandbox',
  'merchant',
  'payment-app',
  'testing',
]
const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>
}

// The temp project must not see this repo's source condition (its tarballs have no src/).
const env = { ...process.env }
delete env['NODE_OPTIONS']
delete env['npm_config_node_options']
for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name]

const results: { name: string; ok: boolean; ms: number; detail: string }[] = []
function check(name: string, run: () => string): void {
  const start = Date.now()
  try {
    const detail = run()
    results.push({ name, ok: true, ms: Date.now() - start, detail })
    console.log(`✓ consumer: ${name} (${Date.now() - start} ms)`)
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    results.push({ name, ok: false, ms: Date.now() - start, detail })
    console.log(`✗ consumer: ${name}\n${detail}`)
  }
}

function run(command: string, args: string[], cwd: string, timeoutMs = 600_000): string {
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${output}`)
  return output
}

const work = mkdtempSync(join(tmpdir(), 'alipay-consumer-'))
const project = join(work, 'shop')
const tarballs = join(project, 'tarballs')
try {
  console.log('[consumer] building the packages')
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' })
  mkdirSync(tarballs, { recursive: true })
  const packed = JSON.parse(
    execFileSync(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        tarballs,
        ...PACKAGES.flatMap((name) => ['-w', `@alipay-payment-handler/${name}`]),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    ),
  ) as { name: string; filename: string; size: number; unpackedSize: number; entryCount: number }[]
  for (const item of packed) {
    console.log(
      `[consumer] ${item.filename}: ${(item.size / 1024).toFixed(1)} KB packed, ${(item.unpackedSize / 1024).toFixed(1)} KB unpacked, ${item.entryCount} files`,
    )
  }

  cpSync(PROJECT_FILES, project, { recursive: true })
  const tarball = (name: string) => `file:./tarballs/${packed.find((p) => p.name === name)!.filename}`
  const kit = Object.fromEntries(packed.map((p) => [p.name, tarball(p.name)]))
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'express-tea-shop',
        private: true,
        type: 'module',
        dependencies: {
          ...kit,
          express: '^5.1.0',
          '@playwright/test': rootManifest.devDependencies['@playwright/test'],
        },
        devDependencies: {
          typescript: rootManifest.devDependencies['typescript'],
          '@types/node': rootManifest.devDependencies['@types/node'],
          '@types/express': '^5.0.0',
        },
        // The kit's packages name each other by version; here they come from the tarballs.
        overrides: kit,
      },
      null,
      2,
    ),
  )

  const installStart = Date.now()
  console.log(`[consumer] npm install in ${project}`)
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project)
  const installMs = Date.now() - installStart
  console.log(`[consumer] installed in ${(installMs / 1000).toFixed(1)} s`)
  const leaked = readdirSync(join(project, 'node_modules', '@alipay-payment-handler')).filter((name) =>
    statSync(join(project, 'node_modules', '@alipay-payment-handler', name)).isSymbolicLink?.(),
  )
  if (leaked.length > 0) throw new Error(`linked, not installed: ${leaked.join(', ')}`)

  check('types under NodeNext, strict, skipLibCheck off', () => run('npx', ['tsc', '-p', '.'], project))
  check('every entry point under require()', () => run('node', ['check-require.cjs'], project))
  check('Express shop pays one order in Chromium through the native handler', () =>
    run('node', ['pay.mjs'], project, 180_000),
  )
  for (const result of results) if (result.ok && result.detail.trim()) console.log(result.detail.trim())
} catch (error) {
  results.push({ name: 'pack and install', ok: false, ms: 0, detail: String(error) })
  console.log(`✗ consumer: pack and install\n${String(error)}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}

mkdirSync(join(ROOT, 'test-results', 'reports'), { recursive: true })
const failed = results.filter((r) => !r.ok)
writeFileSync(
  REPORT,
  JSON.stringify({
    passed: results.length - failed.length,
    failed: failed.length,
    names: failed.map((r) => `tests/consumer › ${r.name}`),
  }),
)
console.log(`consumer: ${results.length - failed.length} passed, ${failed.length} failed`)
process.exitCode = failed.length > 0 ? 1 : 0
