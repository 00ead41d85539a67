import { defineConfig } from 'vitest/config'
import { handlerViteConfig } from './handler/build.ts'

// `vite build` builds the payment app's pages and worker (handler/build.ts); vitest reads `test`.
export default defineConfig(({ command }) =>
  command === 'build'
    ? handlerViteConfig()
    : {
        test: {
          include: ['{protocol,handler,polyfill,demo-server,sandbox,demo-merchant,scripts,tests}/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'tests/e2e/**', 'tests/browsers/**'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
)
