import { defineConfig } from 'vitest/config'

// Firefox and WebKit runs of the polyfill's popup flow: real browsers, one at a time.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/browsers/**/*.test.ts'],
    globalSetup: ['tests/browsers/servers.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
})
