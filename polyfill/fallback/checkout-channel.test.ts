import { afterEach, expect, test, vi } from 'vitest'
import { openCheckoutWindow } from './checkout-channel'

afterEach(() => {
  vi.unstubAllGlobals()
})

test('opens the checkout in a named popup and hands back the window', () => {
  const popup = { closed: false }
  const open = vi.fn(() => popup)
  vi.stubGlobal('window', { open })
  expect(openCheckoutWindow('https://pay.example/pay/checkout.html')).toBe(popup)
  expect(open).toHaveBeenCalledWith(
    'https://pay.example/pay/checkout.html',
    'alipay-checkout',
    'popup,width=480,height=720',
  )
})

test('a window.open() that throws (Firefox in a sandbox without allow-popups) counts as blocked', () => {
  vi.stubGlobal('window', {
    open: () => {
      throw new DOMException('Blocked', 'InvalidAccessError')
    },
  })
  expect(openCheckoutWindow('https://pay.example/pay/checkout.html')).toBeNull()
})

test('a window.open() that returns null counts as blocked', () => {
  vi.stubGlobal('window', { open: () => null })
  expect(openCheckoutWindow('https://pay.example/pay/checkout.html')).toBeNull()
})
