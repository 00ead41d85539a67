import { describe, expect, it, vi } from 'vitest'
import { timeoutSignal } from './timeout-signal.js'

describe('timeoutSignal', () => {
  it('shares one signal within a 50 ms slot and makes a new one after it', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(1_000_000)
      const first = timeoutSignal(1_000)
      vi.setSystemTime(1_000_049)
      expect(timeoutSignal(1_000)).toBe(first)
      expect(timeoutSignal(2_000)).not.toBe(first)
      vi.setSystemTime(1_000_050)
      expect(timeoutSignal(1_000)).not.toBe(first)
    } finally {
      vi.useRealTimers()
    }
  })

  it('never fires before its time, and does fire', async () => {
    const started = Date.now()
    const signal = timeoutSignal(80)
    const firedAt = await new Promise<number>((resolve) =>
      signal.addEventListener('abort', () => resolve(Date.now()), { once: true }),
    )
    expect(firedAt - started).toBeGreaterThanOrEqual(79)
    expect(signal.reason).toBeInstanceOf(DOMException)
    expect((signal.reason as DOMException).name).toBe('TimeoutError')
  })
})
