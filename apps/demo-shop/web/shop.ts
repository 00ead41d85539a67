import { addAmounts, fromFen, toFen } from '@alipay-payment-handler/protocol'
import { api, type ProductView } from './api.js'
import { cartCount, cartItems, itemsText, loadCart, saveCart, saveOrderItems, setQuantity, type Cart } from './cart.js'
import { announce, byId, formatPrice, h } from './dom.js'
import { describeError } from './messages.js'

const productList = byId<HTMLUListElement>('products')
const cartLines = byId<HTMLUListElement>('cart-lines')
const cartEmpty = byId('cart-empty')
const cartTotal = byId('cart-total')
const checkoutButton = byId<HTMLButtonElement>('checkout')
const checkoutStatus = byId('checkout-status')
const serverStatus = byId('server-status')
const cartCountBadge = byId('cart-count')
const addedStatus = byId('added-status')

let products: ProductView[] = []
let cart: Cart = loadCart()

function update(next: Cart): void {
  cart = next
  saveCart(cart)
  renderCart()
}

function renderProducts(): void {
  productList.replaceChildren(
    ...products.map((product) =>
      h(
        'li',
        { class: 'product' },
        // Decorative: the product's name follows as a heading.
        h('img', { class: 'product-art', src: product.image, alt: '', width: '96', height: '96' }),
        h('h2', { class: 'product-name', id: `name-${product.id}` }, product.name),
        h('p', { class: 'product-description' }, product.description),
        h('p', { class: 'price' }, formatPrice(product.price)),
        h(
          'button',
          { type: 'button', class: 'add', 'data-product': product.id, 'aria-describedby': `name-${product.id}` },
          'Add to cart',
        ),
      ),
    ),
  )
  productList.setAttribute('aria-busy', 'false')
}

function renderCart(): void {
  const lines = Object.entries(cart).flatMap(([id, quantity]) => {
    const product = products.find((p) => p.id === id)
    return product ? [{ product, quantity }] : []
  })
  cartEmpty.hidden = lines.length > 0
  checkoutButton.disabled = lines.length === 0
  cartLines.replaceChildren(
    ...lines.map(({ product, quantity }) => {
      const inputId = `qty-${product.id}`
      const input = h('input', {
        id: inputId,
        type: 'number',
        min: '0',
        max: '99',
        inputmode: 'numeric',
        value: String(quantity),
        'data-product': product.id,
      })
      return h(
        'li',
        { class: 'cart-line' },
        h('label', { for: inputId }, product.name),
        input,
        h('span', { class: 'line-total' }, formatPrice(fromFen(toFen(product.price) * BigInt(quantity)))),
        h(
          'button',
          { type: 'button', class: 'link remove', 'data-remove': product.id, 'aria-label': `Remove ${product.name}` },
          'Remove',
        ),
      )
    }),
  )
  const total =
    lines.length === 0
      ? '0.00'
      : addAmounts(...lines.map(({ product, quantity }) => fromFen(toFen(product.price) * BigInt(quantity))))
  cartTotal.textContent = formatPrice(total)
  // In the header, which stays in view on a phone while the cart is screens below.
  const count = cartCount(cart)
  cartCountBadge.textContent = String(count)
  cartCountBadge.setAttribute('aria-label', itemsText(count))
}

productList.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-product]')
  const id = button?.dataset['product']
  if (!id) return
  update(setQuantity(cart, id, (cart[id] ?? 0) + 1))
  const product = products.find((p) => p.id === id)
  // Said next to the header's count, in view wherever the buyer scrolled to.
  announce(addedStatus, `Added ${product?.name ?? id}. ${itemsText(cartCount(cart))} in your cart.`, 'success')
})

cartLines.addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement
  const id = input.dataset['product']
  if (id) update(setQuantity(cart, id, Number(input.value)))
})

cartLines.addEventListener('click', (event) => {
  const id = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-remove]')?.dataset['remove']
  if (!id) return
  update(setQuantity(cart, id, 0))
  checkoutButton.focus()
})

checkoutButton.addEventListener('click', async () => {
  checkoutButton.disabled = true
  announce(checkoutStatus, 'Creating your order…')
  try {
    const order = await api.checkout(cartItems(cart))
    // "Order again" on the checkout page places the same lines anew if this order cannot be paid.
    saveOrderItems(order.orderId, cartItems(cart))
    update({})
    location.assign(`/checkout.html?order=${encodeURIComponent(order.orderId)}`)
  } catch (error) {
    announce(checkoutStatus, describeError(error).message, 'error')
    checkoutButton.disabled = false
  }
})

async function start(): Promise<void> {
  try {
    products = await api.products()
    renderProducts()
    renderCart()
  } catch (error) {
    serverStatus.hidden = false
    serverStatus.textContent = describeError(error).message
  }
}

void start()
