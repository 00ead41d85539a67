import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { Hono, type Context } from 'hono'
import { HANDLER_PREFIX } from '../common/errors.js'
import { RETURN_PREFIX } from '../common/paths.js'
import {
  ICON_SIZES,
  paymentMethodLink,
  paymentMethodManifest,
  webAppManifest,
  type IdentityConfig,
} from './identity.js'

/** Configures what the payment app origin serves under /pay. */
export interface HandlerAssetsConfig extends IdentityConfig {
  /** The Vite build (default: this package's `dist/app`): sw.js, checkout.html, return.html, assets/. */
  distDir?: string
  /** Origins the checkout may post a form to (a POST cashier form). GET cashier URLs need none. */
  formActionOrigins?: readonly string[]
}

// Found by the package's name, not relative to this module: the payment app's bin is one bundled
// file in another package, where this module's own URL is that file's.
const PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve('@alipay-payment-handler/handler/package.json'))
export const DEFAULT_DIST_DIR = join(PACKAGE_DIR, 'dist', 'app') + '/'
const PUBLIC_DIR = join(PACKAGE_DIR, 'public') + '/'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
}

/** The handler pages' CSP: nothing inline, nothing from elsewhere, no framing, no COOP (popups). */
export function handlerCsp(formActionOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    `form-action 'self'${formActionOrigins.map((origin) => ` ${new URL(origin).origin}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ')
}

/** What a person sees at the URL payment method identifier: what it is and what the origin serves. */
function methodPage(origin: string): string {
  const url = (path: string) => escapeHtml(new URL(path, origin).href)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alipay payment method</title></head>
<body>
<h1>Alipay payment method</h1>
<p>This URL, <code>${url('/pay')}</code>, is a payment method identifier: a shop passes it to
<code>new PaymentRequest([{ supportedMethods: '${url('/pay')}', data }], details)</code>, and the browser
installs the payment app from here the first time the buyer pays.</p>
<ul>
<li><a href="${url('/pay/payment-manifest.json')}">Payment method manifest</a> (found through this URL's <code>Link</code> header)</li>
<li><a href="${url('/pay/manifest.json')}">Web app manifest</a> (name, icons, service worker)</li>
</ul>
</body></html>`
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/**
 * The payment app's browser side as a Hono sub-app for `/pay` and `/pay/*`: the URL payment
 * method identifier (HEAD and GET, with the Link header), both manifests, the icons, the built
 * worker and pages, and `/pay/return/<sessionId>` → return.html. Everything is `no-store`:
 * Chromium refetches manifests on every request anyway, and a stale worker is worse than a fetch.
 */
export function createHandlerAssets(config: HandlerAssetsConfig): Hono {
  const distDir = config.distDir ?? DEFAULT_DIST_DIR
  const csp = handlerCsp(config.formActionOrigins)
  const app = new Hono()

  app.use('*', async (c, next) => {
    await next()
    c.header('cache-control', 'no-store')
    c.header('x-content-type-options', 'nosniff')
    c.header('content-security-policy', csp)
  })

  // GET also answers HEAD in Hono; Chromium sends HEAD first (payment-handler-notes §3.5).
  app.get('/pay', (c) => {
    c.header('link', paymentMethodLink(config))
    // Browsers find the manifest through the Link header; a person who opens the URL gets a page.
    if ((c.req.header('accept') ?? '').includes('text/html')) return c.html(methodPage(config.publicOrigin))
    return c.text('Alipay payment method. See the payment method manifest in the Link header.\n')
  })
  app.get('/pay/payment-manifest.json', (c) => c.json(paymentMethodManifest(config)))
  app.get('/pay/manifest.json', (c) => {
    c.header('content-type', 'application/manifest+json; charset=utf-8')
    return c.body(JSON.stringify(webAppManifest(config)))
  })
  for (const size of ICON_SIZES) {
    app.get(`/pay/icon-${size}.png`, (c) => sendFile(c, join(PUBLIC_DIR, `icon-${size}.png`)))
  }

  app.get('/pay/sw.js', (c) => sendFile(c, join(distDir, 'sw.js')))
  app.get('/pay/checkout.html', (c) => sendFile(c, join(distDir, 'checkout.html')))
  app.get('/pay/return.html', (c) => sendFile(c, join(distDir, 'return.html')))
  app.get(`${RETURN_PREFIX}:sessionId`, (c) => sendFile(c, join(distDir, 'return.html')))
  app.get('/pay/assets/:file', (c) => {
    const file = c.req.param('file')
    // One path segment of plain characters: nothing can climb out of the assets folder.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(file)) return c.notFound()
    return sendFile(c, join(distDir, 'assets', file))
  })
  return app
}

async function sendFile(c: Context, path: string): Promise<Response> {
  let body: Buffer
  try {
    body = await readFile(path)
  } catch {
    if (/[\\/](sw\.js|checkout\.html|return\.html)$/.test(path)) {
      // The build is missing: say how to fix it rather than a bare 404.
      return c.text(`${HANDLER_PREFIX} ${path} is missing. Run "npm run build" to build the payment handler.\n`, 503)
    }
    return c.notFound()
  }
  c.header('content-type', CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
  return c.body(new Uint8Array(body))
}
