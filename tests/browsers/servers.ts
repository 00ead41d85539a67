import { fileURLToPath } from 'node:url'
import { createServer, type ViteDevServer } from 'vite'
import { APP_PORT, SHOP_PORT } from './origins.js'

/** Vitest global setup: the shop and the fake payment app, each a Vite dev server on its own origin. */
export default async function startServers(): Promise<() => Promise<void>> {
  // The app's config reads its port from here to write its payment method manifest.
  process.env['E2E_POLYFILL_APP_PORT'] = String(APP_PORT)
  const servers: ViteDevServer[] = []
  const shop = await createServer({
    configFile: fileURLToPath(new URL('../e2e/fixtures/vite.config.ts', import.meta.url)),
    server: { port: SHOP_PORT, host: 'localhost', strictPort: true },
    // A dependency cache of its own: Vite servers of other suites re-optimize the shared one under our feet.
    cacheDir: 'node_modules/.vite-browser-tests',
  })
  servers.push(await shop.listen())
  const app = await createServer({
    configFile: fileURLToPath(new URL('../e2e/fixtures/polyfill-app.vite.config.ts', import.meta.url)),
    server: { port: APP_PORT, host: 'localhost', strictPort: true },
    cacheDir: 'node_modules/.vite-browser-tests-app',
  })
  servers.push(await app.listen())
  return async () => {
    await Promise.all(servers.map((server) => server.close()))
  }
}
