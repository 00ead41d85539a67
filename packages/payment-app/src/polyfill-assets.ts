import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Hono } from 'hono'

/** Where the polyfill package's built files are: its `dist/` beside its package.json. */
export function defaultPolyfillDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@alipay-payment-handler/polyfill/package.json')), 'dist')
}

/**
 * Serves the polyfill's prebuilt modules under `/polyfill/`, so that a merchant page can load it
 * from the payment app with one line:
 * `<script type="module" src="https://pay.example.com/polyfill/alipay-polyfill.js?app=https://pay.example.com">`.
 * The files are cross-origin module scripts, so they answer with CORS for every origin; they hold
 * nothing secret. Only the polyfill's own file names are served.
 */
export function createPolyfillAssets(dir: string = defaultPolyfillDir()): Hono {
  const app = new Hono()
  app.get('/polyfill/:file', async (c) => {
    const file = c.req.param('file')
    if (!/^(alipay-polyfill|index)(-[A-Za-z0-9_-]+)*\.js$/.test(file)) return c.notFound()
    let body: Buffer
    try {
      body = await readFile(join(dir, file))
    } catch {
      return c.notFound()
    }
    return c.body(new Uint8Array(body), 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      // Chunk names carry a content hash; the entry's name does not, so it is revalidated.
      'cache-control':
        file === 'alipay-polyfill.js' || file === 'index.js' ? 'no-cache' : 'public, max-age=31536000, immutable',
    })
  })
  return app
}
