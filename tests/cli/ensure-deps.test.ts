import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, test } from 'vitest'

const script = fileURLToPath(new URL('../../scripts/ensure-deps.mjs', import.meta.url))
const folders: string[] = []

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

/** A clone without node_modules, and an `npm` that installs by writing node_modules/.package-lock.json. */
function freshClone(npmExit = 0): { root: string; npm: string } {
  const root = mkdtempSync(join(tmpdir(), 'alipay-ensure-deps-'))
  folders.push(root)
  writeFileSync(join(root, 'package-lock.json'), '{}')
  const npm = join(root, 'fake-npm.mjs')
  writeFileSync(
    npm,
    `#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs'
console.log('fake npm ' + process.argv.slice(2).join(' '))
// Long enough for the progress line, which the test asks for every 50 ms.
await new Promise((resolve) => setTimeout(resolve, 600))
if (${npmExit} === 0) {
  mkdirSync('node_modules', { recursive: true })
  writeFileSync('node_modules/.package-lock.json', '{}')
}
process.exit(${npmExit})
`,
  )
  chmodSync(npm, 0o755)
  return { root, npm }
}

function ensureDeps(root: string, npm: string) {
  const result = spawnSync(process.execPath, [script], {
    env: { ...process.env, ALIPAY_DEPS_ROOT: root, ALIPAY_NPM: npm, ALIPAY_PROGRESS_INTERVAL_MS: '50' },
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { status: result.status, out: result.stdout + result.stderr }
}

test('the first install says what it does, shows npm working, keeps saying it is busy and how long it took', () => {
  const { root, npm } = freshClone()
  const { status, out } = ensureDeps(root, npm)
  expect(status).toBe(0)
  expect(out).toContain('[alipay] node_modules is missing or older than package-lock.json: installing packages')
  // npm's own output reaches the terminal, with the native builds shown as they run.
  expect(out).toMatch(/fake npm ci .*--foreground-scripts/)
  expect(out).toMatch(/\[alipay\] installing npm packages… \d+s so far/)
  expect(out).toMatch(/\[alipay\] installing npm packages: done in \d+s/)
  expect(existsSync(join(root, 'node_modules', '.package-lock.json'))).toBe(true)
})

test('a failed install says so with the time it ran, and exits non-zero', () => {
  const { root, npm } = freshClone(3)
  const { status, out } = ensureDeps(root, npm)
  expect(status).toBe(1)
  expect(out).toMatch(/failed \(exit 3\) after \d+s/)
})

test('a clone that is installed already starts at once, without a word about installing', () => {
  const { root, npm } = freshClone()
  expect(ensureDeps(root, npm).status).toBe(0)
  const { status, out } = ensureDeps(root, npm)
  expect(status).toBe(0)
  expect(out).not.toContain('installing')
})
