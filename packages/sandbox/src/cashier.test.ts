import QRCode from 'qrcode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeForm, signParams, type Params } from '@alipay-payment-handler/protocol'
import { createSandboxApp } from './app.js'
import { demoSandboxConfig } from './config.js'
import { DEMO_BUYER, DEMO_POOR_BUYER } from './demo-accounts.js'
import { createSandboxDeps, type SandboxDeps } from './deps.js'
import { MERCHANT_KEYS, payParams } from './testing.js'

const BASE = 'http://sandbox.test'
const ATTACK = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'

let deps: SandboxDeps
let app: ReturnType<typeof createSandboxApp>

beforeAll(() => {
  deps = createSandboxDeps(demoSandboxConfig({ log: () => {} }))
  app = createSandboxApp(deps)
})
afterAll(() => deps.store.close())

const fetchApp = (path: string, init?: RequestInit) => app.fetch(new Request(`${BASE}${path}`, init))

async function open(overrides: Params = {}): Promise<string> {
  const signed = await signParams(payParams(overrides), { signType: 'MD5', keys: MERCHANT_KEYS })
  const response = await fetchApp(`/gateway.do?${encodeForm(signed)}`)
  expect(response.status).toBe(302)
  return response.headers.get('location')!
}

function post(path: string, form: Record<string, string>) {
  return fetchApp(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  })
}

const payAs = (cashier: string, login: string, password: string = DEMO_BUYER.password) =>
  post(`${cashier}/pay`, { login, password })

const tradeOf = (cashier: string) => deps.store.tradeByCashierToken(cashier.split('/').pop()!)!

describe('the cashier', () => {
  it('escapes the attacker-controlled subject and body, and sends a strict CSP', async () => {
    const cashier = await open({ subject: ATTACK, body: ATTACK, return_url: 'http://shop.example/return' })
    const response = await fetchApp(cashier)
    const page = await response.text()
    expect(page).not.toContain('<script>alert(1)')
    expect(page).not.toContain('<img src=x')
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;')
    // Every script is an external same-origin file; the CSP forbids inline ones.
    expect([...page.matchAll(/<script[^>]*>/g)].every(([tag]) => /src="\/_sandbox\/assets\//.test(tag))).toBe(true)
    const csp = response.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("form-action 'self' http://shop.example")
    expect(csp).toContain("frame-ancestors 'none'")
    const inspector = await (await fetchApp('/_sandbox/inspector')).text()
    expect(inspector).not.toContain('<script>alert(1)')
  })

  it('shows a QR code of the phone page on desktop only', async () => {
    const cashier = await open()
    const page = await (await fetchApp(cashier)).text()
    const phoneUrl = `${BASE}/phone/scan?code=${tradeOf(cashier).cashierToken}`
    const expected = await QRCode.toString(phoneUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
    expect(page).toContain(expected)
    const wap = await open({ service: 'alipay.wap.create.direct.pay.by.user' })
    const wapPage = await (await fetchApp(wap)).text()
    expect(wapPage).not.toContain('<svg')
    expect(wapPage).toContain('id="pay"')
  })

  it('keeps the trade unpaid after a wrong password', async () => {
    const cashier = await open()
    const page = await (await payAs(cashier, DEMO_BUYER.login, 'wrong')).text()
    expect(page).toMatch(/data-message="bad-login"/)
    expect(tradeOf(cashier).status).toBe('WAIT_BUYER_PAY')
  })

  it('refuses a buyer with too little money, then takes another', async () => {
    const cashier = await open({ total_fee: '0.10', return_url: 'http://shop.example/return' })
    const page = await (await payAs(cashier, DEMO_POOR_BUYER.login)).text()
    expect(page).toMatch(/data-message="insufficient"/)
    expect(deps.store.balance(DEMO_POOR_BUYER.userId, DEMO_POOR_BUYER.balance)).toBe(DEMO_POOR_BUYER.balance)
    const paid = await payAs(cashier, DEMO_BUYER.login)
    expect(paid.status).toBe(303)
    expect(tradeOf(cashier)).toMatchObject({ status: 'TRADE_SUCCESS', buyerId: DEMO_BUYER.userId })
  })

  it('only lets the buyer named in the request pay', async () => {
    const cashier = await open({ buyer_email: DEMO_BUYER.login })
    expect(await (await payAs(cashier, DEMO_POOR_BUYER.login)).text()).toMatch(/data-message="wrong-buyer"/)
    expect((await payAs(cashier, DEMO_BUYER.login)).status).toBe(303)
  })

  it('pays by scanning: the phone pays, the desktop poll moves on to the signed return', async () => {
    const cashier = await open({ return_url: 'http://shop.example/return' })
    const token = tradeOf(cashier).cashierToken
    expect(await (await fetchApp(`${cashier}/status`)).json()).toEqual({
      tradeStatus: 'WAIT_BUYER_PAY',
      paid: false,
      next: null,
    })
    const phonePage = await (await fetchApp(`/phone/scan?code=${token}`)).text()
    expect(phonePage).toContain('id="pay"')
    const paid = await post('/phone/pay', { code: token, login: DEMO_BUYER.login, password: DEMO_BUYER.password })
    expect(await paid.text()).toContain('id="result"')
    const status = (await (await fetchApp(`${cashier}/status`)).json()) as { next: string; paid: boolean }
    expect(status.paid).toBe(true)
    expect(status.next.startsWith('http://shop.example/return?')).toBe(true)
    expect(tradeOf(cashier).businessScene).toBe('qrpay')
    // The desktop page, reloaded, shows the result with the same return link.
    const again = await (await fetchApp(cashier)).text()
    expect(again).toContain('id="return"')
  })

  it('shows a success page when there is no return_url', async () => {
    const cashier = await open()
    const paid = await payAs(cashier, DEMO_BUYER.login)
    expect(paid.status).toBe(303)
    expect(paid.headers.get('location')).toBe(cashier)
    expect(await (await fetchApp(cashier)).text()).toContain('id="result"')
  })

  it('cancels to show_url, or to a page that leads back; the trade stays unpaid', async () => {
    const withShow = await open({ show_url: 'http://shop.example/item' })
    const back = await post(`${withShow}/cancel`, {})
    expect(back.status).toBe(303)
    expect(back.headers.get('location')).toBe('http://shop.example/item')
    const plain = await open()
    const page = await (await post(`${plain}/cancel`, {})).text()
    expect(page).toContain(`href="${plain}"`)
    expect(tradeOf(plain).status).toBe('WAIT_BUYER_PAY')
  })

  it('answers unknown cashier tokens with TRADE_NOT_EXIST', async () => {
    for (const path of ['/cashier/0123456789abcdef0123456789abcdef', '/cashier/..%2f..', '/phone/scan?code=x']) {
      const response = await fetchApp(path)
      expect(response.status).toBe(404)
      expect(await response.text()).toMatch(/content="TRADE_NOT_EXIST"/)
    }
  })
})
