import { createServer, type Server } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { PortInUseError, assertPortFree, isAddressInUse } from './ports.js'

let server: Server | undefined
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

it('passes for a free port and fails with one clear line for a taken one', async () => {
  server = createServer()
  await new Promise<void>((resolve) => server!.listen(0, 'localhost', resolve))
  const port = (server.address() as { port: number }).port
  const error = await assertPortFree(port, 'merchant').catch((e: unknown) => e)
  expect(error).toBeInstanceOf(PortInUseError)
  expect(isAddressInUse(error)).toBe(true)
  expect((error as Error).message).toMatch(new RegExp(`^\\[alipay\\] Port ${port} \\(merchant\\) is already in use\\.`))
  expect((error as Error).message).not.toContain('\n')
  await new Promise<void>((resolve) => server!.close(() => resolve()))
  server = undefined
  await expect(assertPortFree(port, 'merchant')).resolves.toBeUndefined()
})
