import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { Builder, type WebDriver } from 'selenium-webdriver'

/**
 * WebKitGTK's MiniBrowser under Xvfb through WebKitWebDriver (payment-handler-notes §6c). There is
 * no headless mode, and the driver hangs the new-session request forever when the browser cannot
 * start, so every step has a deadline.
 */
const DRIVER_PATH = process.env['WEBKIT_DRIVER_PATH'] ?? '/usr/bin/WebKitWebDriver'
const MINIBROWSER_PATH =
  process.env['WEBKIT_MINIBROWSER_PATH'] ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'
// Generous: on a loaded 2-core machine a session has been seen to take over 30 s to start.
const SESSION_TIMEOUT_MS = 50_000

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`[alipay] ${what} took more than ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** Starts Xvfb and reads the display number it chose (-displayfd). */
function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  })
  return withTimeout(
    new Promise((resolve, reject) => {
      xvfb.on('error', reject)
      xvfb.stdio[3]?.on('data', (chunk: Buffer) => resolve({ display: `:${chunk.toString().trim()}`, process: xvfb }))
    }),
    10_000,
    'starting Xvfb',
  )
}

async function waitForDriver(url: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/status`).then(
      (response) => response.ok,
      () => false,
    )
    if (ready) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`[alipay] WebKitWebDriver did not answer at ${url}`)
}

/** The display and the driver, shared by the tests of a file; each test opens its own browser session. */
export interface WebKitDriverHost {
  newSession(): Promise<WebDriver>
  stop(): Promise<void>
}

/** Starts Xvfb and WebKitWebDriver. */
export async function startWebKitDriver(): Promise<WebKitDriverHost> {
  const xvfb = await startXvfb()
  const port = await freePort()
  const driver = spawn(DRIVER_PATH, [`--port=${port}`], {
    env: { ...process.env, DISPLAY: xvfb.display },
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForDriver(url)
  } catch (error) {
    driver.kill()
    xvfb.process.kill()
    throw error
  }
  return {
    newSession: () =>
      withTimeout(
        new Builder()
          .usingServer(url)
          .withCapabilities({
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
          })
          .build(),
        SESSION_TIMEOUT_MS,
        'creating a WebKit session',
      ),
    async stop() {
      driver.kill()
      xvfb.process.kill()
    },
  }
}
