import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { buildHandler } from '@alipay-payment-handler/handler/build'
import { formatKb, measureHandler, measurePolyfill, SIZE_BUDGETS, type BundleSize } from '../../scripts/size-budget.js'
import type { BenchRow, BenchSuite } from '../row.js'

const POLYFILL_CONFIG = fileURLToPath(new URL('../../packages/polyfill/vite.config.ts', import.meta.url))

function sizeRow(size: BundleSize): BenchRow {
  return {
    what: `${size.label}, min + gzip`,
    figure: Number((size.gzipBytes / 1024).toFixed(2)),
    unit: 'KB',
    target: `≤ ${formatKb(size.budget)}`,
    met: size.gzipBytes <= size.budget,
    note: `${formatKb(size.rawBytes)} minified, ${size.files.length} file(s)`,
  }
}

/**
 * Bundle sizes against the budgets, from fresh builds in a temp folder (the same builds as `npm run
 * build`: handler/build.ts and vite.polyfill.config.ts), measured by scripts/size-budget.ts.
 */
export const sizesSuite: BenchSuite = {
  name: 'bundle sizes',
  async run() {
    const workDir = mkdtempSync(join(tmpdir(), 'alipay-bench-sizes-'))
    try {
      const rows: BenchRow[] = []
      const polyfillDir = join(workDir, 'polyfill')
      try {
        await build({
          configFile: POLYFILL_CONFIG,
          logLevel: 'error',
          build: { outDir: polyfillDir, emptyOutDir: true },
        })
        rows.push(...measurePolyfill(polyfillDir).map(sizeRow))
      } catch (error) {
        // The polyfill's own build refuses to finish over budget: that is a miss, not a crash of the bench.
        for (const name of ['loader', 'native', 'fallback'] as const) {
          rows.push({
            what: `polyfill ${name}, min + gzip`,
            figure: Number.NaN,
            unit: 'KB',
            target: `≤ ${formatKb(SIZE_BUDGETS[name])}`,
            met: false,
            note: `the polyfill build failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
          })
        }
      }
      rows.push(...measureHandler(await buildHandler(join(workDir, 'handler'))).map(sizeRow))
      return rows
    } finally {
      rmSync(workDir, { recursive: true, force: true })
    }
  },
}
