import { expect, it } from 'vitest'
import { cartItems, loadCart, saveCart, setQuantity } from './cart.js'

/** A Storage on a Map: what the cart needs of localStorage, in Node. */
function memoryStorage(initial: Record<string, string> = {}): Storage {
  const map = new Map(Object.entries(initial))
  return {
    get length() {
      return map.size
    },
    clear: () => map.clear(),
    getItem: (key) => map.get(key) ?? null,
    key: (index) => [...map.keys()][index] ?? null,
    removeItem: (key) => void map.delete(key),
    setItem: (key, value) => void map.set(key, value),
  }
}

it('round-trips through storage and lists checkout lines', () => {
  const storage = memoryStorage()
  saveCart(setQuantity(setQuantity({}, 'tea-sachet', 2), 'celadon-cup', 1), storage)
  const cart = loadCart(storage)
  expect(cartItems(cart)).toEqual([
    { productId: 'tea-sachet', quantity: 2 },
    { productId: 'celadon-cup', quantity: 1 },
  ])
})

it('removes a line at quantity 0 and caps a line at 99', () => {
  expect(setQuantity({ a: 3 }, 'a', 0)).toEqual({})
  expect(setQuantity({}, 'a', 500)).toEqual({ a: 99 })
})

it('ignores whatever else is stored under its key', () => {
  expect(loadCart(memoryStorage({ 'demo-shop-cart': 'not json' }))).toEqual({})
  expect(loadCart(memoryStorage({ 'demo-shop-cart': '{"a":2,"b":-1,"c":1.5,"d":"3"}' }))).toEqual({ a: 2 })
})
