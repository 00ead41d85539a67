#!/usr/bin/env node
// Installs what a fresh clone lacks before `npm start` / `npm test` / `npm run bench`:
// npm packages (npm ci when node_modules is missing or older than the lockfile) and, with
// --browsers, Debian's Chromium, Firefox ESR, WebKitWebDriver and Xvfb for the browser tests, and
// PostgreSQL for the store tests (unless DATABASE_URL names a server).
// Plain JavaScript on purpose: it must run before any dependency is installed.
import { execSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = process.env.ALIPAY_DEPS_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..')
const log = (message) => console.log(`[alipay] ${message}`)
// How often a long step says it is still working; tests make it short.
const PROGRESS_EVERY_MS = Number(process.env.ALIPAY_PROGRESS_INTERVAL_MS ?? 15_000)

function run(command) {
  log(`$ ${command}`)
  execSync(command, { cwd: root, stdio: 'inherit' })
}

/** "2m 05s", "41s". */
function elapsed(since) {
  const seconds = Math.round((Date.now() - since) / 1000)
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`
}

/**
 * Runs a long command with its own output on the terminal, and a line every little while saying
 * what is going on and for how long, so a first install never looks stuck.
 */
function runWithProgress(what, command, args) {
  log(`${what}: $ ${command} ${args.join(' ')}`)
  const started = Date.now()
  const ticker = setInterval(() => log(`${what}… ${elapsed(started)} so far`), PROGRESS_EVERY_MS)
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' })
    child.on('error', (error) => {
      clearInterval(ticker)
      reject(error)
    })
    child.on('exit', (code, signal) => {
      clearInterval(ticker)
      if (code === 0) {
        log(`${what}: done in ${elapsed(started)}`)
        resolve()
      } else {
        reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}) after ${elapsed(started)}`))
      }
    })
  })
}

function packagesAreCurrent() {
  const installed = join(root, 'node_modules', '.package-lock.json')
  if (!existsSync(installed)) return false
  return statSync(installed).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs
}

if (!packagesAreCurrent()) {
  log('node_modules is missing or older than package-lock.json: installing packages (a few minutes the first time)')
  try {
    // --foreground-scripts shows the native builds (better-sqlite3) as they run, instead of a
    // silent wait; npm's own progress bar shows too when the terminal is interactive.
    await runWithProgress('installing npm packages', process.env.ALIPAY_NPM ?? 'npm', [
      'ci',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
      '--progress=true',
    ])
  } catch (error) {
    console.error(`[alipay] ${error.message}`)
    process.exit(1)
  }
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
