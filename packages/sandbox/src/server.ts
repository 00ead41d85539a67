import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { createSandboxApp } from './app.js'
import type { SandboxConfig } from './config.js'
import { createSandboxDeps, type SandboxDeps, type SandboxDepsOptions } from './deps.js'

/** A running sandbox. */
export interface RunningSandbox {
  /** Base URL, e.g. http://127.0.0.1:4300 (the real port when 0 was asked for). */
  url: string
  /** The gateway endpoint: `${url}/gateway.do`. */
  gatewayUrl: string
  deps: SandboxDeps
  /** Stops timers, waits for notify attempts in flight, closes the server and the database. */
  close(): Promise<void>
}

/** Starts the sandbox on `config.port` (default 4300) and resumes pending notifies and expiries. */
export async function startSandbox(config: SandboxConfig, options: SandboxDepsOptions = {}): Promise<RunningSandbox> {
  const deps = createSandboxDeps(config, options)
  const app = createSandboxApp(deps)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: deps.config.port, hostname: deps.config.hostname }, () => resolve(s))
    s.once('error', reject)
  })
  const address = server.address() as AddressInfo
  const host =
    deps.config.hostname === '127.0.0.1' || deps.config.hostname === '0.0.0.0' ? '127.0.0.1' : deps.config.hostname
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`
  deps.scheduler.start()
  let closing: Promise<void> | undefined
  return {
    url,
    gatewayUrl: `${url}/gateway.do`,
    deps,
    close() {
      closing ??= (async () => {
        await deps.scheduler.stop()
        await deps.notifier.drain()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          if ('closeAllConnections' in server) server.closeAllConnections()
        })
        deps.store.close()
      })()
      return closing
    },
  }
}
