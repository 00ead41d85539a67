import { afterEach, expect, test, vi } from 'vitest'
import { HANDSHAKE_TIMEOUT_MS, POPUP_NAME_PREFIX, connectCheckout, openCheckoutWindow } from './checkout-channel.js'

afterEach(() => {
  vi.unstubAllGlobals()
})

test('opens the checkout in a popup with a name of its own and hands back the window', () => {
  const popup = { closed: false }
  const open = vi.fn((_url: string, _name: string, _features: string) => popup)
  vi.stubGlobal('window', { open })
  expect(openCheckoutWindow('https://pay.example/pay/checkout.html')).toBe(popup)
  expect(openCheckoutWindow('https://pay.example/pay/checkout.html')).toBe(popup)
  const [first, second] = open.mock.calls
  expect(first?.[0]).toBe('https://pay.example/pay/checkout.html')
  expect(first?.[2]).toBe('popup,width=480,height=720')
  expect(first?.[1]).toMatch(new RegExp(`^${POPUP_NAME_PREFIX}[0-9a-f-]{36}$`))
  expect(second?.[1]).not.toBe(first?.[1])
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

test('a popup whose checkout never announces itself counts as closed, and leaves no listener', () => {
  vi.useFakeTimers()
  try {
    const listeners = new Set<unknown>()
    vi.stubGlobal('window', {
      addEventListener: (_type: string, fn: unknown) => listeners.add(fn),
      removeEventListener: (_type: string, fn: unknown) => listeners.delete(fn),
    })
    const popup = { closed: false, close: vi.fn() }
    const outcomes: unknown[] = []
    connectCheckout(popup as unknown as Window, 'https://pay.example', (o) => outcomes.push(o))
    expect(listeners.size).toBe(1)
    vi.advanceTimersByTime(HANDSHAKE_TIMEOUT_MS - 1)
    expect(outcomes).toEqual([])
    vi.advanceTimersByTime(1)
    expect(outcomes).toEqual([{ kind: 'cancelled', reason: 'closed' }])
    expect(popup.close).toHaveBeenCalled()
    expect(listeners.size).toBe(0)
    vi.advanceTimersByTime(60_000)
    expect(outcomes).toHaveLength(1)
  } finally {
    vi.useRealTimers()
  }
})
