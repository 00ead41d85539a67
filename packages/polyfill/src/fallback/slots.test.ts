import { afterEach, expect, test, vi } from 'vitest'
import { isShowing, setShowing, showingHolder } from './slots.js'

/** A window of a frame tree: `parent` is itself at the top; a cross-origin one throws on every read. */
function frameWindow(parent?: object, crossOrigin = false): Record<PropertyKey, unknown> {
  const win: Record<PropertyKey, unknown> = {}
  win['parent'] = parent ?? win
  if (!crossOrigin) return win
  return new Proxy(win, {
    get(target, key) {
      if (key === 'parent') return target['parent']
      throw new DOMException('Blocked a frame from accessing a cross-origin frame.', 'SecurityError')
    },
  })
}

afterEach(() => {
  vi.unstubAllGlobals()
})

test('the flag lives on the top window when every ancestor is same-origin', () => {
  const top = frameWindow()
  const frame = frameWindow(frameWindow(top))
  vi.stubGlobal('window', frame)
  expect(showingHolder()).toBe(top)
})

test('a cross-origin ancestor stops the walk: the highest same-origin ancestor below it holds the flag', () => {
  const foreign = frameWindow(frameWindow(), true)
  const middle = frameWindow(foreign)
  vi.stubGlobal('window', frameWindow(middle))
  expect(showingHolder()).toBe(middle)
  const alone = frameWindow(foreign)
  vi.stubGlobal('window', alone)
  expect(showingHolder()).toBe(alone)
})

test('raising and lowering the flag; another document keeps its own, and a gone document blocks nobody', () => {
  const holder = {}
  const mine = { defaultView: {} }
  const other = { defaultView: {} as object | null }
  vi.stubGlobal('document', mine)
  expect(isShowing(holder)).toBe(false)
  setShowing(holder, true)
  expect(isShowing(holder)).toBe(true)
  setShowing(holder, false)
  expect(isShowing(holder)).toBe(false)

  vi.stubGlobal('document', other)
  setShowing(holder, true)
  vi.stubGlobal('document', mine)
  setShowing(holder, false) // not ours to lower
  expect(isShowing(holder)).toBe(true)
  other.defaultView = null // the other frame navigated away without lowering it
  expect(isShowing(holder)).toBe(false)
})
