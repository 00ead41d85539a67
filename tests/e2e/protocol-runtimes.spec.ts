import { expect, test } from '@playwright/test'
import { loadMapiVectors } from '../support/vectors.js'
import { FIXTURE_ORIGIN } from './support/origins.js'

const vectors = [...loadMapiVectors('md5'), ...loadMapiVectors('rsa'), ...loadMapiVectors('rsa2')]

type Checks = { name: string; ok: boolean; detail?: string }[]
type Runner = { inWindow(v: unknown): Promise<Checks>; inServiceWorker(v: unknown): Promise<Checks> }

test.beforeEach(async ({ page }) => {
  await page.goto(`${FIXTURE_ORIGIN}/tests/e2e/fixtures/protocol.html`)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
})

test('protocol signs and verifies every vector in a browser window', async ({ page }) => {
  const results = await page.evaluate(
    (v) => (globalThis as unknown as { protocolChecks: Runner }).protocolChecks.inWindow(v),
    vectors,
  )
  expect(results.length).toBe(vectors.length + 4)
  expect(results.filter((r) => !r.ok)).toEqual([])
})

test('protocol signs and verifies every vector in a service worker', async ({ page }) => {
  const results = await page.evaluate(
    (v) => (globalThis as unknown as { protocolChecks: Runner }).protocolChecks.inServiceWorker(v),
    vectors,
  )
  expect(results.length).toBe(vectors.length + 4)
  expect(results.filter((r) => !r.ok)).toEqual([])
})
