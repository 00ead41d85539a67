import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { defaultClientConditions, defineConfig, type Plugin } from 'vite'

/** Size budgets of the issue, minified and gzipped: the loader alone, and loader plus fallback chunks. */
const BUDGET_BYTES = { loader: 2 * 1024, fallback: 12 * 1024 }

const gzipped = (code: string) => gzipSync(code, { level: 9 }).length
const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB (${bytes} B)`

/** Prints the gzip sizes the budgets are about, and fails the build when one is over. */
function sizeBudget(): Plugin {
  return {
    name: 'alipay-polyfill-size-budget',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).flatMap((item) => (item.type === 'chunk' ? [item] : []))
      const entry = chunks.find((chunk) => chunk.isEntry)
      if (!entry) return this.error('no entry chunk')
      // The loader is the entry plus every chunk it imports statically: what a native browser downloads.
      const byName = new Map(chunks.map((chunk) => [chunk.fileName, chunk]))
      const loaded = new Set<string>()
      const visit = (name: string) => {
        if (loaded.has(name)) return
        loaded.add(name)
        for (const imported of byName.get(name)?.imports ?? []) visit(imported)
      }
      visit(entry.fileName)
      const loader = [...loaded].reduce((sum, name) => sum + gzipped(byName.get(name)?.code ?? ''), 0)
      const whole = chunks.reduce((sum, chunk) => sum + gzipped(chunk.code), 0)
      const line = (name: string, bytes: number, budget: number) =>
        `[alipay] polyfill ${name}: ${kb(bytes)} min+gzip (budget ${kb(budget)})`
      this.info(line('loader', loader, BUDGET_BYTES.loader))
      this.info(line('loader + fallback', whole, BUDGET_BYTES.fallback))
      console.log(
        `\n${line('loader', loader, BUDGET_BYTES.loader)}\n${line('loader + fallback', whole, BUDGET_BYTES.fallback)}`,
      )
      if (loader > BUDGET_BYTES.loader) this.error(`loader is over budget: ${kb(loader)}`)
      if (whole > BUDGET_BYTES.fallback) this.error(`fallback is over budget: ${kb(whole)}`)
    },
  }
}

// The polyfill as published ES modules: the package entry (index.js), the one-line install
// (alipay-polyfill.js), and the fallback as a chunk either imports on demand.
export default defineConfig(({ mode }) => ({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  // Workspace packages resolve to their TypeScript sources (see the root README's layout notes).
  resolve: { conditions: ['@alipay-payment-handler/source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: mode !== 'module',
    target: 'es2022',
    minify: true,
    reportCompressedSize: false,
    // Two passes into one folder, so that neither file imports the other: the one-line install
    // (`vite build`, budgeted) and the package entry (`vite build --mode module`, no top-level await).
    lib:
      mode === 'module'
        ? { entry: 'src/index.ts', formats: ['es'], fileName: () => 'index.js' }
        : { entry: 'src/auto.ts', formats: ['es'], fileName: () => 'alipay-polyfill.js' },
    // Vite keeps whitespace in ES library builds unless the output asks for minification itself.
    rolldownOptions: {
      output: {
        minify: true,
        chunkFileNames: mode === 'module' ? 'index-[name]-[hash].js' : 'alipay-polyfill-[name]-[hash].js',
      },
      // protocol/ runs top-level code for Node and signing (TextEncoder, node:crypto probes) that the
      // polyfill never uses; no polyfill module is imported for its side effects alone.
      treeshake: { moduleSideEffects: false },
    },
  },
  plugins: mode === 'module' ? [] : [sizeBudget()],
}))
