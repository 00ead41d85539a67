import { fileURLToPath } from 'node:url'
import { build, defaultClientConditions, type InlineConfig, type Plugin } from 'vite'

/** Workspace packages resolve to their TypeScript sources when built from the repo. */
const resolve = { conditions: ['@alipay-payment-handler/source', ...defaultClientConditions] }

/** Where the handler's pages and worker come from, and where the build goes by default. */
export const HANDLER_PAGES_DIR = fileURLToPath(new URL('./src/window/', import.meta.url))
export const HANDLER_WORKER_ENTRY = fileURLToPath(new URL('./src/sw/sw.ts', import.meta.url))
export const HANDLER_BUILD_DIR = fileURLToPath(new URL('./dist/app/', import.meta.url))

/** The pages a browser loads from the payment app origin, under /pay/. */
const PAGES = ['checkout', 'return'] as const

/**
 * The worker build: one classic script with everything inlined. Chromium's just-in-time install
 * registers `serviceworker.src` as a classic worker (the manifest has no `type`), so sw.js may
 * not `import` a shared chunk, which a multi-entry module build would produce.
 */
export function handlerWorkerConfig(outDir = HANDLER_BUILD_DIR): InlineConfig {
  return {
    configFile: false,
    resolve,
    logLevel: 'warn',
    publicDir: false,
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2022',
      lib: { entry: HANDLER_WORKER_ENTRY, formats: ['iife'], name: 'alipayPaymentHandler', fileName: () => 'sw.js' },
    },
  }
}

/** Builds the worker after the pages, so `vite build` with the pages config produces both. */
function serviceWorkerBuild(outDir: string): Plugin {
  return {
    name: 'alipay-handler:service-worker',
    apply: 'build',
    async closeBundle() {
      await build(handlerWorkerConfig(outDir))
    },
  }
}

/**
 * The Vite config of the payment app's pages (checkout and return), served at /pay/ of the
 * payment app origin; building it also builds sw.js into the same folder.
 */
export function handlerViteConfig(outDir = HANDLER_BUILD_DIR): InlineConfig {
  return {
    configFile: false,
    resolve,
    root: HANDLER_PAGES_DIR,
    base: '/pay/',
    logLevel: 'warn',
    publicDir: false,
    plugins: [serviceWorkerBuild(outDir)],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      rolldownOptions: { input: Object.fromEntries(PAGES.map((page) => [page, `${HANDLER_PAGES_DIR}${page}.html`])) },
    },
  }
}

/** Builds pages and worker into `outDir` (default dist/app). */
export async function buildHandler(outDir = HANDLER_BUILD_DIR): Promise<string> {
  await build(handlerViteConfig(outDir))
  return outDir
}

// `tsx build.ts` (the package's build script) builds the handler alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildHandler()
  console.log(`[alipay-handler] built into ${HANDLER_BUILD_DIR}`)
}
