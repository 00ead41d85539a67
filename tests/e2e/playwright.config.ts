import { defineConfig } from '@playwright/test'
import { CHROMIUM_ARGS, CHROMIUM_PATH, FIXTURE_ORIGIN, FIXTURE_PORT } from './support/origins.js'
import { POLYFILL_APP_ORIGIN } from './support/polyfill-origins.js'

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  // Two cores: one browser at a time keeps timings honest and the machine responsive.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  retries: 0,
  reporter: [['list']],
  outputDir: '../../test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
  webServer: [
    {
      command: `npx vite --config tests/e2e/fixtures/vite.config.ts --port ${FIXTURE_PORT} --host localhost`,
      cwd: '../..',
      url: `${FIXTURE_ORIGIN}/tests/e2e/fixtures/protocol.html`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      // The polyfill tests' fake payment app, on an origin of its own.
      command: 'npx vite --config tests/e2e/fixtures/polyfill-app.vite.config.ts',
      cwd: '../..',
      url: `${POLYFILL_APP_ORIGIN}/pay/checkout.html`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
})
