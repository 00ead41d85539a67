import { defineConfig } from '@playwright/test'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './origins.js'

/**
 * The shop journeys alone, without the fixture servers the full suite starts: each shop spec
 * starts its own stack. `npx playwright test -c tests/e2e/support/shop-playwright.config.ts`.
 */
export default defineConfig({
  testDir: '..',
  testMatch: 'shop-*.spec.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  retries: 0,
  reporter: [['list']],
  outputDir: '../../../test-results/shop',
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
})
