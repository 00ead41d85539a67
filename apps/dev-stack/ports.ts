import { createServer } from 'node:net'

/** Thrown when a port the stack needs is taken; its message is the one line `npm start` prints. */
export class PortInUseError extends Error {
  override name = 'PortInUseError'
  readonly code = 'PORT_IN_USE'
  constructor(
    readonly port: number,
    readonly party: string,
  ) {
    super(
      `[alipay] Port ${port} (${party}) is already in use. Stop whatever runs there (is another npm start running?), ` +
        `or choose other ports: MERCHANT_PORT, APP_PORT, GATEWAY_PORT.`,
    )
  }
}

/**
 * Fails fast with PortInUseError when `port` is taken, before any server starts, so a clash
 * never leaves half the stack running. Checks the interface the servers bind (localhost).
 */
export async function assertPortFree(port: number, party: string, host = 'localhost'): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(port, party) : error)
    })
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()))
  })
}

/** True when an error is (or wraps) EADDRINUSE, whichever server raised it. */
export function isAddressInUse(error: unknown): boolean {
  return (
    error instanceof PortInUseError ||
    (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EADDRINUSE')
  )
}
