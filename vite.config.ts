import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['{protocol,handler,polyfill,demo-server,sandbox,demo-merchant,tests}/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'tests/e2e/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
