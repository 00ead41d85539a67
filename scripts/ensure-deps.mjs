#!/usr/bin/env node
// Installs what a fresh clone lacks before `npm start` / `npm test` / `npm run bench`:
// npm packages (npm ci when node_modules is missing or older than the lockfile) and, with
// --browsers, Debian's Chromium, Firefox ESR, WebKitWebDriver and Xvfb for the browser tests, and
// PostgreSQL for the store tests (unless DATABASE_URL names a server).
// Plain JavaScript on purpose: it must run before any dependency is installed.
import { execSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const log = (message) => console.log(`[alipay] ${message}`)

function run(command) {
  log(`$ ${command}`)
  execSync(command, { cwd: root, stdio: 'inherit' })
}

function packagesAreCurrent() {
  const installed = join(root, 'node_modules', '.package-lock.json')
  if (!existsSync(installed)) return false
  return statSync(installed).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs
}

if (!packagesAreCurrent()) {
  log('node_modules is missing or older than package-lock.json: installing packages')
  run('npm ci --no-audit --no-fund')
}

/** Debian packages the browser tests need, keyed by the file each one provides. */
const BROWSER_PACKAGES = {
  '/usr/bin/chromium': 'chromium',
  '/usr/bin/firefox-esr': 'firefox-esr',
  '/usr/bin/WebKitWebDriver': 'webkit2gtk-driver',
  '/usr/bin/Xvfb': 'xvfb',
  '/usr/bin/xauth': 'xauth',
}

/** Any installed major of Debian's PostgreSQL server: the tests start throwaway clusters from it. */
function postgresInstalled() {
  const root = '/usr/lib/postgresql'
  return existsSync(root) && readdirSync(root).some((major) => existsSync(join(root, major, 'bin', 'initdb')))
}

if (process.argv.includes('--browsers')) {
  const missing = Object.entries(BROWSER_PACKAGES)
    .filter(([file]) => !existsSync(file))
    .map(([, pkg]) => pkg)
  if (!postgresInstalled() && !process.env.DATABASE_URL) missing.push('postgresql')
  if (missing.length > 0) {
    const asRoot = process.getuid?.() === 0 ? '' : 'sudo '
    log(`installing Debian packages: ${missing.join(' ')}`)
    try {
      run(`${asRoot}apt-get update`)
      run(`${asRoot}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`)
    } catch {
      console.error(
        `[alipay] Could not install ${missing.join(', ')}. Install them with apt-get as root, then run the tests again.`,
      )
      process.exit(1)
    }
  }
}
