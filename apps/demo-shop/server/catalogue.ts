import { addAmounts, fitSubject, fromFen, toFen } from '@alipay-payment-handler/protocol'

/** One thing the demo shop sells. Prices are decimal strings in CNY, never floats. */
export interface Product {
  id: string
  name: string
  description: string
  price: string
  /** A small illustration served by the shop (web/public/products/). */
  image: string
}

/** The demo catalogue. The 0.01 sachet makes a cheap test payment with the poor buyer too. */
export const PRODUCTS: readonly Product[] = [
  {
    id: 'longjing-tea',
    image: '/products/longjing-tea.svg',
    name: 'Longjing green tea, 50 g',
    description: 'Pan-fired spring leaves from Hangzhou.',
    price: '68.00',
  },
  {
    id: 'celadon-cup',
    image: '/products/celadon-cup.svg',
    name: 'Celadon tea cup',
    description: 'Hand-thrown, 120 ml, glazed in pale green.',
    price: '39.90',
  },
  {
    id: 'mooncake-box',
    image: '/products/mooncake-box.svg',
    name: 'Mooncakes, box of 4',
    description: 'Lotus seed paste with salted egg yolk.',
    price: '128.00',
  },
  {
    id: 'tea-sachet',
    image: '/products/tea-sachet.svg',
    name: 'Jasmine tea sample',
    description: 'One sachet to try before you buy.',
    price: '0.01',
  },
]

/** A cart line as the page sends it: which product, how many. */
export interface CartItem {
  productId: string
  quantity: number
}

/** The priced cart: what the order is created from. The server prices it, never the page. */
export interface PricedCart {
  subject: string
  amount: string
  lines: { product: Product; quantity: number; lineTotal: string }[]
}

/** Most of one product a cart may hold; keeps the total far inside the gateway's range. */
export const MAX_QUANTITY = 99

/** Thrown for a cart the shop cannot sell; `code` is stable, the message is for people. */
export class CartError extends Error {
  override name = 'CartError'
  constructor(
    readonly code: 'CART_EMPTY' | 'UNKNOWN_PRODUCT' | 'BAD_QUANTITY',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Prices a cart from the catalogue: exact money, duplicate lines merged, an order subject
 * such as "2 × Celadon tea cup, 1 × Mooncakes, box of 4" (cut to the gateway's 256 characters).
 */
export function priceCart(items: readonly CartItem[], catalogue: readonly Product[] = PRODUCTS): PricedCart {
  const quantities = new Map<string, number>()
  for (const item of items) {
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw new CartError('BAD_QUANTITY', `Quantity must be a whole number from 1 to ${MAX_QUANTITY}.`)
    }
    quantities.set(item.productId, (quantities.get(item.productId) ?? 0) + item.quantity)
  }
  if (quantities.size === 0) throw new CartError('CART_EMPTY', 'The cart is empty.')
  const lines = [...quantities].map(([productId, quantity]) => {
    const product = catalogue.find((p) => p.id === productId)
    if (!product) throw new CartError('UNKNOWN_PRODUCT', `There is no product "${productId}".`)
    if (quantity > MAX_QUANTITY) {
      throw new CartError('BAD_QUANTITY', `Quantity must be a whole number from 1 to ${MAX_QUANTITY}.`)
    }
    return { product, quantity, lineTotal: fromFen(toFen(product.price) * BigInt(quantity)) }
  })
  const subject = lines.map((l) => `${l.quantity} × ${l.product.name}`).join(', ')
  return {
    subject: fitSubject(subject),
    amount: addAmounts(...lines.map((l) => l.lineTotal)),
    lines,
  }
}
