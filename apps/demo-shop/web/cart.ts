/**
 * The cart lives in localStorage: it survives reloads and the trip to the cashier, and the
 * server never sees it until checkout, where it prices it itself.
 */
const STORAGE_KEY = 'demo-shop-cart'

/** productId → quantity. */
export type Cart = Record<string, number>

/** Reads the cart, tolerating anything odd another version of the page stored. */
export function loadCart(storage: Storage = localStorage): Cart {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}')
    if (typeof parsed !== 'object' || parsed === null) return {}
    const cart: Cart = {}
    for (const [id, quantity] of Object.entries(parsed)) {
      if (Number.isInteger(quantity) && (quantity as number) > 0) cart[id] = quantity as number
    }
    return cart
  } catch {
    return {}
  }
}

/** Writes the cart back. */
export function saveCart(cart: Cart, storage: Storage = localStorage): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(cart))
}

/** Sets one product's quantity (0 removes it). */
export function setQuantity(cart: Cart, productId: string, quantity: number): Cart {
  const next = { ...cart }
  if (quantity > 0) next[productId] = Math.min(99, Math.floor(quantity))
  else delete next[productId]
  return next
}

/** The cart as checkout lines. */
export function cartItems(cart: Cart): { productId: string; quantity: number }[] {
  return Object.entries(cart).map(([productId, quantity]) => ({ productId, quantity }))
}
