import { expect, test } from 'vitest'
import { resolveConfig } from './config.js'

test('derives the URL identifier and the popup URL from the app origin', () => {
  const config = resolveConfig({ appOrigin: 'http://localhost:4200/' })
  expect(config.appOrigin).toBe('http://localhost:4200')
  expect(config.methodUrl).toBe('http://localhost:4200/pay')
  expect(config.completeTimeout).toBe(60_000)
  expect(config.checkoutUrl('http://localhost:4100')).toBe(
    'http://localhost:4200/pay/checkout.html?mode=popup&origin=http%3A%2F%2Flocalhost%3A4100',
  )
})

test.each(['', 'localhost:4200', 'http://localhost:4200/pay', 'http://localhost:4200?x=1', 'data:text/plain,x'])(
  'refuses %j as an app origin',
  (appOrigin) => expect(() => resolveConfig({ appOrigin })).toThrow(/appOrigin must be an origin/),
)
