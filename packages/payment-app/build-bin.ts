import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

/**
 * The `alipay-payment-app` bin as one file: dist/cli.js, replacing tsc's cli.js after
 * `tsc -p tsconfig.build.json`. Loaded module by module, the bin's graph was some 140 ES modules
 * and 300 CommonJS files, resolved, read and compiled one by one: most of a 400 ms start to
 * `/readyz` (bench `startup`). One file is read and compiled once, and only what the bin uses
 * is in it. `dist/index.js` and its types stay tsc's, for the package's library users.
 *
 * Left outside, and so declared in this package's dependencies: better-sqlite3 (a native addon),
 * and what a start does not load at all, loaded from node_modules on first use: pg (the first
 * PostgreSQL pool) and undici (the first outbound call).
 */
export const BIN_EXTERNALS = ['better-sqlite3', 'pg', 'undici']

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

await build({
  entryPoints: [here('./src/cli.ts')],
  outfile: here('./dist/cli.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The workspace packages from their sources, as the repo's other builds take them.
  conditions: ['@alipay-payment-handler/source'],
  external: BIN_EXTERNALS,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
  // The CommonJS packages inside (pino, prom-client, rate-limiter-flexible, iconv-lite) `require`
  // Node's built-ins; an ES module has no `require` of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
})
