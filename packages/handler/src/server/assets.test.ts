import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { createHandlerAssets } from './assets.js'

const ORIGIN = 'https://pay.example.com'

function fakeDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'handler-dist-'))
  mkdirSync(join(dir, 'assets'))
  writeFileSync(join(dir, 'sw.js'), 'self.addEventListener("paymentrequest", () => {})')
  writeFileSync(join(dir, 'checkout.html'), '<title>Checkout</title>')
  writeFileSync(join(dir, 'return.html'), '<title>Return</title>')
  writeFileSync(join(dir, 'assets', 'checkout-abc.js'), 'console.log(1)')
  return dir
}

const app = createHandlerAssets({ publicOrigin: ORIGIN, distDir: fakeDist() })
const get = (path: string, method = 'GET') => app.fetch(new Request(`${ORIGIN}${path}`, { method }))

describe('createHandlerAssets', () => {
  test.each(['HEAD', 'GET'])('answers %s on the method identifier with the manifest Link header', async (method) => {
    const response = await get('/pay', method)
    expect(response.status).toBe(200)
    expect(response.headers.get('link')).toBe(`<${ORIGIN}/pay/payment-manifest.json>; rel="payment-method-manifest"`)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  test('gives a person who opens the method identifier a page about it, with the same Link header', async () => {
    const response = await app.fetch(new Request(`${ORIGIN}/pay`, { headers: { accept: 'text/html,*/*' } }))
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('link')).toBe(`<${ORIGIN}/pay/payment-manifest.json>; rel="payment-method-manifest"`)
    const page = await response.text()
    expect(page).toContain('<html lang="en">')
    expect(page).toContain(`href="${ORIGIN}/pay/payment-manifest.json"`)
    // Tools and Chromium's manifest fetch (no text/html) still get the short text.
    expect(await (await get('/pay')).text()).toMatch(/^Alipay payment method\./)
  })

  test('serves a payment method manifest whose one default app is on our origin', async () => {
    const manifest = await (await get('/pay/payment-manifest.json')).json()
    expect(manifest).toEqual({ default_applications: [`${ORIGIN}/pay/manifest.json`] })
  })

  test('lists supported origins only when configured, as origins', async () => {
    const other = createHandlerAssets({
      publicOrigin: ORIGIN,
      supportedOrigins: ['https://wallet.example/x'],
      distDir: fakeDist(),
    })
    const manifest: any = await (await other.fetch(new Request(`${ORIGIN}/pay/payment-manifest.json`))).json()
    expect(manifest.supported_origins).toEqual(['https://wallet.example'])
  })

  test('serves a web app manifest with icons and the worker scoped to /pay/', async () => {
    const response = await get('/pay/manifest.json')
    expect(response.headers.get('content-type')).toContain('application/manifest+json')
    const manifest: any = await response.json()
    expect(manifest.serviceworker).toEqual({ src: '/pay/sw.js', scope: '/pay/', use_cache: false })
    expect(manifest.icons.map((icon: { src: string }) => icon.src)).toEqual([
      '/pay/icon-32.png',
      '/pay/icon-192.png',
      '/pay/icon-512.png',
    ])
    expect(manifest.name).toBe('Alipay')
  })

  test('serves real PNG icons', async () => {
    for (const size of [32, 192, 512]) {
      const response = await get(`/pay/icon-${size}.png`)
      expect(response.headers.get('content-type')).toBe('image/png')
      const bytes = new Uint8Array(await response.arrayBuffer())
      expect([...bytes.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47])
      // IHDR width, big-endian at offset 16.
      expect(new DataView(bytes.buffer).getUint32(16)).toBe(size)
    }
  })

  test('serves the built worker and pages with no-store and a strict CSP', async () => {
    const worker = await get('/pay/sw.js')
    expect(worker.headers.get('content-type')).toContain('text/javascript')
    const page = await get('/pay/checkout.html')
    expect(await page.text()).toContain('Checkout')
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe')
    expect(page.headers.get('cache-control')).toBe('no-store')
  })

  test('serves return.html for every /pay/return/<sessionId>', async () => {
    expect(await (await get('/pay/return/s_123?is_success=T')).text()).toContain('Return')
  })

  test('serves built assets and nothing outside them', async () => {
    expect((await get('/pay/assets/checkout-abc.js')).status).toBe(200)
    expect((await get('/pay/assets/..%2Fsw.js')).status).toBe(404)
    expect((await get('/pay/assets/missing.js')).status).toBe(404)
  })

  test('says how to fix a missing build', async () => {
    const bare = createHandlerAssets({ publicOrigin: ORIGIN, distDir: join(tmpdir(), 'no-such-dist') })
    const response = await bare.fetch(new Request(`${ORIGIN}/pay/sw.js`))
    expect(response.status).toBe(503)
    expect(await response.text()).toContain('[alipay-handler]')
  })

  test('lets a POST cashier form reach the configured gateway only', async () => {
    const withGateway = createHandlerAssets({
      publicOrigin: ORIGIN,
      distDir: fakeDist(),
      formActionOrigins: ['https://mapi.alipay.com/gateway.do'],
    })
    const response = await withGateway.fetch(new Request(`${ORIGIN}/pay/checkout.html`))
    expect(response.headers.get('content-security-policy')).toContain("form-action 'self' https://mapi.alipay.com;")
  })
})
