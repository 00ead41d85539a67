import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signParams } from '@alipay-payment-handler/protocol'
import { demoSandboxConfig, startSandbox, type RunningSandbox } from '@alipay-payment-handler/sandbox'
import { DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { createTestDatabase } from '@alipay-payment-handler/testing/postgres'
import { defaultPolyfillDir } from './polyfill-assets.js'

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SHOP = 'http://localhost:4100'
/** Settings of the parent's environment that must not leak into the child's. */
const OURS =
  /^(ALIPAY_|PORT$|HOST$|PUBLIC_ORIGIN$|SIGNING_SERVER_DB$|DATABASE_URL$|LOG_LEVEL$|TRUSTED_PROXIES$|SHUTDOWN_TIMEOUT$)/

interface Bin {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Starts `alipay-payment-app` the way `npm run server` does (tsx, the source condition), minus npm. */
function startBin(args: string[], env: Record<string, string>): Bin {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OURS.test(name)))
  const child = spawn(
    process.execPath,
    ['--conditions=@alipay-payment-handler/source', '--import', 'tsx', CLI, ...args],
    { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

async function waitFor<T>(what: string, bin: Bin, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (bin.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${what}: not seen (exit ${bin.child.exitCode})\n${bin.stdout()}\n${bin.stderr()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

let dir: string
let sandbox: RunningSandbox
const running: Bin[] = []

beforeAll(async () => {
  // The bin serves the polyfill's built files; build them once if this checkout has none.
  if (!existsSync(join(defaultPolyfillDir(), 'alipay-polyfill.js')))
    execFileSync('npm', ['run', 'build', '-w', '@alipay-payment-handler/polyfill'], { cwd: ROOT, stdio: 'ignore' })
  dir = mkdtempSync(join(tmpdir(), 'alipay-app-cli-'))
  sandbox = await startSandbox(demoSandboxConfig({ port: 0, log: () => {} }))
}, 180_000)
afterAll(async () => {
  for (const bin of running) if (bin.child.exitCode === null) bin.child.kill('SIGKILL')
  await sandbox?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('alipay-payment-app', () => {
  it('refuses to start with the demo partner against the real gateway: exit 2, one line per problem', async () => {
    const bin = startBin(['--db', join(dir, 'refused.db')], {
      ALIPAY_GATEWAY_URL: 'https://mapi.alipay.com/gateway.do',
      ALIPAY_PARTNER: DEMO_PARTNER.partner,
      ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
      ALIPAY_ALLOWED_ORIGINS: 'https://shop.example',
      PUBLIC_ORIGIN: 'https://pay.example.com',
    })
    running.push(bin)
    expect(await bin.exited).toBe(2)
    const against =
      'and https://mapi.alipay.com/gateway.do is not the local sandbox (http://localhost, 127.0.0.1 or [::1])'
    expect(bin.stderr().trimEnd().split('\n')).toEqual([
      `[alipay-payment-app] ALIPAY_PARTNER: is the sandbox's demo partner id ${DEMO_PARTNER.partner}, ${against}: configure the partner's own account`,
      `[alipay-payment-app] ALIPAY_MD5_KEY: is the demo MD5 key (a PUBLIC TEST key of the sandbox), ${against}: configure the partner's own keys`,
      '[alipay-payment-app] not started: 2 problem(s) in the configuration (--help lists the settings)',
    ])
    expect(bin.stdout()).toBe('')
    expect(bin.stderr()).not.toContain(DEMO_PARTNER.md5Key)
  }, 30_000)

  it('serves /readyz, /pay and the polyfill against the sandbox, and drains on SIGTERM, exit 0', async () => {
    const bin = startBin(['--port', '0', '--db', join(dir, 'good.db'), '--shutdown-timeout', '5'], {
      ALIPAY_GATEWAY_URL: sandbox.gatewayUrl,
      ALIPAY_PARTNER: DEMO_PARTNER.partner,
      ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
      ALIPAY_ALLOWED_ORIGINS: SHOP,
    })
    running.push(bin)
    const url = await waitFor('listening', bin, () => /listening on (http:\/\/\S+)/.exec(bin.stdout())?.[1])
    // The bin prints its two lines with two writes, which may arrive apart.
    const methodLine = `payment method ${url}/pay, polyfill ${url}/polyfill/alipay-polyfill.js`
    await waitFor('payment method line', bin, () => (bin.stdout().includes(methodLine) ? true : undefined))

    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ ok: true, store: 'sqlite', migrations: { applied: true, version: 3 } })
    const pay = await fetch(`${url}/pay`)
    expect(pay.status).toBe(200)
    expect(pay.headers.get('link')).toContain('payment-method-manifest')
    await pay.text()
    const polyfill = await fetch(`${url}/polyfill/alipay-polyfill.js`)
    expect(polyfill.status).toBe(200)
    expect(polyfill.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect((await polyfill.text()).length).toBeGreaterThan(100)

    // A long poll in flight when SIGTERM comes is answered, not cut, and the process exits 0 well
    // before the poll's 20 s.
    const methodData = await signParams(
      {
        service: 'mobile.securitypay.pay',
        partner: DEMO_PARTNER.partner,
        _input_charset: 'utf-8',
        notify_url: `${SHOP}/api/notify`,
        out_trade_no: `CLI${Date.now()}`,
        subject: 'drain',
        payment_type: '1',
        total_fee: '1.00',
      },
      { signType: 'MD5', keys: { md5Key: DEMO_PARTNER.md5Key } },
    )
    const created = await fetch(`${url}/api/sessions`, {
      method: 'POST',
      // As the checkout window sends it: state changes come from the payment app's own origin only.
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({
        paymentRequestId: 'pr-cli',
        merchantOrigin: SHOP,
        methodData,
        total: { currency: 'CNY', value: '1.00' },
      }),
    })
    expect(created.status).toBe(201)
    const session = (await created.json()) as { sessionId: string; status: string }
    const poll = fetch(`${url}/api/sessions/${session.sessionId}?wait=20&status=${session.status}`)
    await new Promise((r) => setTimeout(r, 300))
    const signalled = Date.now()
    bin.child.kill('SIGTERM')
    const answer = await poll
    expect(answer.status).toBe(200)
    expect(await answer.json()).toMatchObject({ sessionId: session.sessionId, status: 'at_cashier' })
    expect(await bin.exited).toBe(0)
    expect(Date.now() - signalled).toBeLessThan(5_000)
    const events = bin
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(events.find((e) => e['event'] === 'server.draining')).toMatchObject({ signal: 'SIGTERM', timeoutMs: 5000 })
    expect(bin.stderr()).toContain('"event":"server.stopped"')
    expect(bin.stderr()).not.toContain('server.drain-deadline')
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  }, 60_000)

  it('on DATABASE_URL=postgres://…: --migrate-only migrates and exits 0, then the server reports the migrations applied', async () => {
    const database = await createTestDatabase(process.env['TEST_POSTGRES_URL'])
    try {
      const env = {
        ALIPAY_GATEWAY_URL: sandbox.gatewayUrl,
        ALIPAY_PARTNER: DEMO_PARTNER.partner,
        ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key,
        ALIPAY_ALLOWED_ORIGINS: SHOP,
        DATABASE_URL: database.url,
      }
      const migrate = startBin(['--migrate-only'], env)
      running.push(migrate)
      expect(await migrate.exited, migrate.stderr()).toBe(0)
      expect(migrate.stdout()).toContain('3 migration(s) applied')
      const again = startBin(['--migrate-only'], env)
      running.push(again)
      expect(await again.exited).toBe(0)
      expect(again.stdout()).toContain('0 migration(s) applied')

      const bin = startBin(['--port', '0'], env)
      running.push(bin)
      const url = await waitFor('listening', bin, () => /listening on (http:\/\/\S+)/.exec(bin.stdout())?.[1])
      const ready = await fetch(`${url}/readyz`)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toEqual({ ok: true, store: 'postgres', migrations: { applied: true, version: 3 } })
      bin.child.kill('SIGTERM')
      expect(await bin.exited).toBe(0)
    } finally {
      await database.drop()
    }
  }, 60_000)
})
