import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Unit tests. Workspace packages resolve to their TypeScript sources through the
// `@alipay-payment-handler/source` export condition, as tsx and Node do under `npm run`.
const conditions = ['@alipay-payment-handler/source', ...defaultServerConditions]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['{packages,apps,scripts,tests}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'tests/e2e/**', 'tests/browsers/**', 'tests/consumer/**'],
    // One PostgreSQL for the run (DATABASE_URL, or a throwaway cluster): TEST_POSTGRES_URL.
    globalSetup: ['packages/testing/src/postgres-vitest-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
