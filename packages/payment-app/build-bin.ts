import { execFileSync, spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type BuildOptions } from 'esbuild'

/**
 * The `alipay-payment-app` bin, after `tsc -p tsconfig.build.json` built the library:
 * - dist/cli-bundle.cjs: src/cli.ts and all it imports in one file. Loaded module by module, the
 *   bin's graph was some 140 ES modules and 300 CommonJS files, resolved, read and compiled one by
 *   one: most of a 400 ms start to `/readyz` (bench `startup`). CommonJS, because Node 20 can
 *   cache the compiled code of a script but not of an ES module.
 * - dist/cli-bundle.cache: V8's code cache of that bundle, taken from a real start (code-cache.ts).
 * - dist/cli.cjs: the bin itself, which runs the bundle from the cache (src/bin.ts).
 *
 * Left outside the bundle, and so declared in this package's dependencies: better-sqlite3 (a
 * native addon), and what a start does not load at all, loaded from node_modules on first use: pg
 * (the first PostgreSQL pool) and undici (the first outbound call).
 */
export const BIN_EXTERNALS = ['better-sqlite3', 'pg', 'undici']

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const BUNDLE = here('./dist/cli-bundle.cjs')
const CACHE = here('./dist/cli-bundle.cache')

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The workspace packages from their sources, as the repo's other builds take them.
  conditions: ['@alipay-payment-handler/source'],
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
}

const bundled = await build({
  ...common,
  entryPoints: [here('./src/cli.ts')],
  outfile: BUNDLE,
  external: BIN_EXTERNALS,
  // `import()` of pg and undici becomes `require`: a script from a code cache cannot import()
  // in Node 20 (code-cache.ts). Checked below, so a new one cannot slip in.
  supported: { 'dynamic-import': false },
  metafile: true,
  // The sources find their packages' files with createRequire(import.meta.url); in the bundle,
  // that is the bundle's own URL (the package's dist/, as for the library).
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
})
const dynamicImports = Object.values(bundled.metafile.outputs)
  .flatMap((output) => output.imports)
  .filter((entry) => entry.kind === 'dynamic-import')
if (dynamicImports.length > 0) {
  throw new Error(`the bin's bundle must not import(): ${dynamicImports.map((entry) => entry.path).join(', ')}`)
}
await build({ ...common, entryPoints: [here('./src/bin.ts')], outfile: here('./dist/cli.cjs') })

/**
 * Starts the bundle once, the way a deployment starts it but on a port of its own, a throwaway
 * database and made-up credentials (a loopback gateway that is never called), and keeps what V8
 * compiled by the time `/readyz` answered.
 */
async function takeCodeCache(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'alipay-code-cache-'))
  try {
    const writer = join(work, 'code-cache-writer.cjs')
    await build({ ...common, entryPoints: [here('./code-cache-writer.ts')], outfile: writer })
    const args = ['--port', '0', '--host', '127.0.0.1', '--db', join(work, 'start.db')]
    const child = spawn(process.execPath, [writer, BUNDLE, CACHE, ...args], {
      // No NODE_OPTIONS, no inherited flags: the cache must match a plain `node` start.
      env: {
        PATH: process.env['PATH'],
        ALIPAY_GATEWAY_URL: 'http://127.0.0.1:9/gateway.do',
        ALIPAY_PARTNER: `2088${String(randomInt(1e12)).padStart(12, '0')}`,
        ALIPAY_MD5_KEY: Array.from({ length: 32 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[randomInt(36)]).join(
          '',
        ),
        ALIPAY_ALLOWED_ORIGINS: 'http://localhost:4100',
        LOG_LEVEL: 'error',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const origin = await new Promise<string>((resolve, reject) => {
      let output = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk
        const listening = /listening on (http:\/\/\S+)/.exec(output)
        if (listening) resolve(listening[1]!)
      })
      void exited.then((code) => reject(new Error(`the bin exited ${code} before listening: ${output}`)))
    })
    for (const path of ['/readyz', '/healthz']) {
      const response = await fetch(origin + path)
      if (!response.ok) throw new Error(`${path} answered ${response.status} while writing the code cache`)
      await response.arrayBuffer()
    }
    child.stdin.end()
    const code = await exited
    if (code !== 0 || !existsSync(CACHE) || statSync(CACHE).size === 0) {
      throw new Error(`writing the code cache failed (exit ${code})`)
    }
    // The node that runs the build must take its own cache, or the bin starts without one.
    const checked = execFileSync(process.execPath, [writer, '--check', BUNDLE, CACHE], {
      env: { PATH: process.env['PATH'] },
      encoding: 'utf8',
    })
    if (!(JSON.parse(checked) as { cacheUsed: boolean }).cacheUsed) throw new Error('V8 refused the new code cache')
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

await takeCodeCache()
