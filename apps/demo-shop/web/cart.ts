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

/** How many pieces the cart holds: the count a buyer expects, not the number of lines. */
export function cartCount(cart: Cart): number {
  return Object.values(cart).reduce((sum, quantity) => sum + quantity, 0)
}

/** "1 item", "3 items". */
export function itemsText(count: number): string {
  return `${count} ${count === 1 ? 'item' : 'items'}`
}

const ORDER_ITEMS_KEY = 'demo-shop-order-items:'

/** Remembers what an order was made of, so "Order again" can place the same order anew. */
export function saveOrderItems(orderId: string, items: CheckoutLine[], storage: Storage = localStorage): void {
  storage.setItem(ORDER_ITEMS_KEY + orderId, JSON.stringify(items))
}

/** The lines an order was placed with on this browser, or undefined when it was placed elsewhere. */
export function loadOrderItems(orderId: string, storage: Storage = localStorage): CheckoutLine[] | undefined {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(ORDER_ITEMS_KEY + orderId) ?? 'null')
    if (!Array.isArray(parsed) || parsed.length === 0) return undefined
    return parsed.filter(
      (line): line is CheckoutLine =>
        typeof (line as CheckoutLine).productId === 'string' && Number.isInteger((line as CheckoutLine).quantity),
    )
  } catch {
    return undefined
  }
}

/** One line of a checkout. */
export interface CheckoutLine {
  productId: string
  quantity: number
}

/** The cart as checkout lines. */
export function cartItems(cart: Cart): CheckoutLine[] {
  return Object.entries(cart).map(([productId, quantity]) => ({ productId, quantity }))
}
