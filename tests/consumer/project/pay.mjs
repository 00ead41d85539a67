// Pays one order end to end with the installed packages: the `alipay-sandbox` and
// `alipay-payment-app` bins as separate processes, the Express shop, and Chromium's native
// payment handler driven through @alipay-payment-handler/testing. Exit 0 when the merchant's own
// records say paid.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { chromium } from '@playwright/test'
import { DEMO_BUYER, DEMO_PARTNER } from '@alipay-payment-handler/sandbox/testing'
import { findHandlerWindow } from '@alipay-payment-handler/testing'
import { startShop } from './shop.mjs'

const started = Date.now()
const data = process.env.CONSUMER_DATA_DIR ?? join(process.cwd(), 'data')
const children = []

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.once('error', reject)
  })

/** Starts an installed bin and waits for a line of its output that matches `ready`. */
function startBin(name, args, env, ready) {
  const child = spawn(join('node_modules', '.bin', name), args, { env: { ...process.env, ...env } })
  children.push(child)
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 30_000)
    const onData = (chunk) => {
      output += chunk
      if (ready.test(output)) {
        clearTimeout(timer)
        resolve(output)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output}`)))
  })
}

const [gatewayPort, appPort, shopPort] = [await freePort(), await freePort(), await freePort()]
const gatewayUrl = `http://localhost:${gatewayPort}/gateway.do`
const appOrigin = `http://localhost:${appPort}`
const shopOrigin = `http://localhost:${shopPort}`
let browser
let shop
try {
  await startBin('alipay-sandbox', ['--port', String(gatewayPort), '--db', join(data, 'sandbox.db')], {}, /inspector/)
  const partnerEnv = { ALIPAY_PARTNER: DEMO_PARTNER.partner, ALIPAY_MD5_KEY: DEMO_PARTNER.md5Key }
  await startBin(
    'alipay-payment-app',
    ['--port', String(appPort), '--gateway', gatewayUrl, '--db', join(data, 'payment-app.db')],
    { ...partnerEnv, ALIPAY_ALLOWED_ORIGINS: shopOrigin, PUBLIC_ORIGIN: appOrigin },
    /listening on/,
  )
  const partner = { partner: DEMO_PARTNER.partner, md5Key: DEMO_PARTNER.md5Key, allowedOrigins: [shopOrigin] }
  shop = await startShop({ port: shopPort, gatewayUrl, appOrigin, partner, database: join(data, 'shop.db') })

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${shopOrigin}/`)
  await page
    .locator('#status')
    .filter({ hasText: /^ready / })
    .waitFor({ timeout: 20_000 })
  const orderId = (await page.locator('#status').textContent()).split(' ')[1]
  await page.click('#pay') // a real click: show() needs the activation
  const window = await findHandlerWindow(browser, page, '/pay/checkout.html', 30_000)
  // The window shows what is paid, then goes on to the cashier by itself.
  await window.waitFor(`location.pathname.startsWith('/cashier/') && document.querySelector('#login')`, 20_000)
  await window.evaluate(`(() => {
    document.querySelector('#login').value = ${JSON.stringify(DEMO_BUYER.login)}
    document.querySelector('#password').value = ${JSON.stringify(DEMO_BUYER.password)}
    document.querySelector('#pay').click()
  })()`)
  await window.detach()
  await page
    .locator('#status')
    .filter({ hasText: /^(success|failed|wait)/ })
    .waitFor({ timeout: 30_000 })
  const shown = await page.locator('#status').textContent()
  const order = await shop.orders.query(orderId)
  if (shown !== `success ${orderId}` || order.status !== 'success') {
    throw new Error(`not paid: the page says "${shown}", the merchant's order is ${order.status}`)
  }
  console.log(
    `consumer: order ${orderId} paid ${order.amount} in Chromium, verified by the merchant (${Date.now() - started} ms)`,
  )
} finally {
  await browser?.close()
  await shop?.close()
  for (const child of children) child.kill('SIGTERM')
}
