import { fileURLToPath } from 'node:url'
import { build, type InlineConfig, type Plugin } from 'vite'

/** Where the handler's pages and worker come from, and where the build goes by default. */
export const HANDLER_PAGES_DIR = fileURLToPath(new URL('./window/', import.meta.url))
export const HANDLER_WORKER_ENTRY = fileURLToPath(new URL('./sw/sw.ts', import.meta.url))
export const HANDLER_BUILD_DIR = fileURLToPath(new URL('../dist/handler/', import.meta.url))

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

/** Builds pages and worker into `outDir` (default dist/handler). */
export async function buildHandler(outDir = HANDLER_BUILD_DIR): Promise<string> {
  await build(handlerViteConfig(outDir))
  return outDir
}

// `tsx handler/build.ts` builds the handler alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildHandler()
  console.log(`[alipay-handler] built into ${HANDLER_BUILD_DIR}`)
}
