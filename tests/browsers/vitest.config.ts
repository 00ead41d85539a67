import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

const conditions = ['@alipay-payment-handler/source', ...defaultServerConditions]

// Firefox and WebKit runs of the polyfill's popup flow: real browsers, one at a time.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/browsers/**/*.test.ts'],
    globalSetup: ['tests/browsers/servers.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
})
