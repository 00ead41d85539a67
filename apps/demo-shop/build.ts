import { fileURLToPath } from 'node:url'
import { build, defaultClientConditions, type InlineConfig } from 'vite'

/** The shop's pages; each HTML file is one Vite entry. */
const PAGES = ['index', 'checkout', 'orders', 'return', 'counter'] as const

/** Where the shop's sources live and where the built pages go by default. */
export const SHOP_SOURCE_DIR = fileURLToPath(new URL('./web/', import.meta.url))
export const SHOP_BUILD_DIR = fileURLToPath(new URL('../../dist/demo-shop/', import.meta.url))

/**
 * The Vite config of the demo shop. Inline rather than a config file so the shop builds on
 * its own root (its pages are served at "/" of the merchant origin) without touching the
 * root config the payment app's pages use.
 */
export function shopViteConfig(outDir = SHOP_BUILD_DIR): InlineConfig {
  return {
    configFile: false,
    // Workspace packages resolve to their TypeScript sources.
    resolve: { conditions: ['@alipay-payment-handler/source', ...defaultClientConditions] },
    root: SHOP_SOURCE_DIR,
    base: '/',
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      // The polyfill's one-line entry uses top-level await.
      target: 'es2022',
      rolldownOptions: { input: Object.fromEntries(PAGES.map((page) => [page, `${SHOP_SOURCE_DIR}${page}.html`])) },
    },
  }
}

/** Builds the shop's pages into `outDir`. */
export async function buildShop(outDir = SHOP_BUILD_DIR): Promise<string> {
  await build(shopViteConfig(outDir))
  return outDir
}

// `tsx apps/demo-shop/build.ts` builds the shop alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildShop()
  console.log(`[alipay] shop built into ${SHOP_BUILD_DIR}`)
}
