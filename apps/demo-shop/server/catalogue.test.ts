import { describe, expect, it } from 'vitest'
import { PRODUCTS, priceCart, type CartError } from './catalogue.js'

describe('priceCart', () => {
  it('prices lines exactly and names them in the subject', () => {
    const cart = priceCart([
      { productId: 'celadon-cup', quantity: 3 },
      { productId: 'tea-sachet', quantity: 1 },
    ])
    expect(cart.amount).toBe('119.71')
    expect(cart.subject).toBe('3 × Celadon tea cup, 1 × Jasmine tea sample')
  })

  it('merges repeated lines of one product', () => {
    const cart = priceCart([
      { productId: 'tea-sachet', quantity: 2 },
      { productId: 'tea-sachet', quantity: 5 },
    ])
    expect(cart.lines).toHaveLength(1)
    expect(cart.amount).toBe('0.07')
  })

  it.each([
    [[], 'CART_EMPTY'],
    [[{ productId: 'nope', quantity: 1 }], 'UNKNOWN_PRODUCT'],
    [[{ productId: 'tea-sachet', quantity: 0 }], 'BAD_QUANTITY'],
    [[{ productId: 'tea-sachet', quantity: 1.5 }], 'BAD_QUANTITY'],
    [
      [
        { productId: 'tea-sachet', quantity: 60 },
        { productId: 'tea-sachet', quantity: 60 },
      ],
      'BAD_QUANTITY',
    ],
  ])('refuses %j with %s', (items, code) => {
    expect(() => priceCart(items)).toThrow(expect.objectContaining({ code }) as CartError)
  })

  it('keeps the subject within the gateway limit of 256 characters', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...PRODUCTS[0]!, id: `p${i}`, name: 'x'.repeat(20) }))
    const cart = priceCart(
      many.map((p) => ({ productId: p.id, quantity: 1 })),
      many,
    )
    expect(cart.subject.length).toBeLessThanOrEqual(256)
  })
})
