import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/**
 * The size budgets, minified + gzip, in bytes. The fallback budget counts everything a
 * browser without payment handlers downloads (loader + fallback chunks), as the polyfill's own
 * build check does (vite.polyfill.config.ts).
 */
export const SIZE_BUDGETS = {
  loader: 2 * 1024,
  native: 5 * 1024,
  fallback: 12 * 1024,
  serviceWorker: 12 * 1024,
  checkout: 30 * 1024,
} as const

/** One measured bundle. */
export interface BundleSize {
  name: keyof typeof SIZE_BUDGETS
  /** What the figure covers, for the table. */
  label: string
  /** Sum of each file gzipped on its own (level 9): browsers fetch and decompress files one by one. */
  gzipBytes: number
  /** Sum of the minified files. */
  rawBytes: number
  budget: number
  files: string[]
}

/** Where the built bundles are. */
export interface BundleDirs {
  /** Output of packages/handler/build.ts (sw.js, checkout.html, assets/). */
  handlerDir: string
  /** Output of packages/polyfill/vite.config.ts (alipay-polyfill.js and its chunks). */
  polyfillDir: string
}

const ROOT = fileURLToPath(new URL('../', import.meta.url))

/** The default build folders of `npm run build`. */
export const DEFAULT_BUNDLE_DIRS: BundleDirs = {
  handlerDir: join(ROOT, 'packages/handler/dist/app'),
  polyfillDir: join(ROOT, 'packages/polyfill/dist'),
}

/** Gzipped size of one file's bytes, at the level servers use for static files. */
export function gzipSize(bytes: Uint8Array | string): number {
  return gzipSync(bytes, { level: 9 }).length
}

/** Relative files a minified ES module imports statically (`import … from "./x.js"`, `import "./x.js"`). */
function staticImports(code: string): string[] {
  const found = new Set<string>()
  // `from"./x.js"` and a bare `import"./x.js"`; `import("./x.js")` (lazy) is deliberately not matched.
  for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["']([^"']+\.js)["']/g)) found.add(m[1]!)
  return [...found]
}

/** A file and every file it imports statically, resolved against `dir` (imports are flat in a Vite build). */
function withStaticImports(dir: string, entry: string): string[] {
  const seen = new Set<string>()
  const visit = (path: string) => {
    if (seen.has(path)) return
    seen.add(path)
    const code = readFileSync(path, 'utf8')
    for (const spec of staticImports(code)) visit(join(path, '..', spec))
  }
  visit(join(dir, entry))
  return [...seen]
}

function sized(name: BundleSize['name'], label: string, files: string[]): BundleSize {
  const contents = files.map((file) => readFileSync(file))
  return {
    name,
    label,
    gzipBytes: contents.reduce((sum, c) => sum + gzipSize(c), 0),
    rawBytes: contents.reduce((sum, c) => sum + c.length, 0),
    budget: SIZE_BUDGETS[name],
    files,
  }
}

/**
 * The polyfill's loader (entry + static imports: what a page blocks on), what a browser with
 * payment handlers downloads before `installAlipayPolyfill` resolves (the loader plus the native
 * chunk and its imports), and the whole polyfill (loader + fallback chunks).
 */
export function measurePolyfill(dir: string): BundleSize[] {
  const loader = withStaticImports(dir, 'alipay-polyfill.js')
  const nativeChunk = readdirSync(dir).find((f) => /^alipay-polyfill-native-.*\.js$/.test(f))
  if (!nativeChunk) throw new Error(`[alipay] no native chunk (alipay-polyfill-native-*.js) in ${dir}`)
  const nativeReady = [...new Set([...loader, ...withStaticImports(dir, nativeChunk)])]
  // The one-line install's files only; index*.js is the package entry's own copy for bundlers.
  const all = readdirSync(dir)
    .filter((f) => f.startsWith('alipay-polyfill') && f.endsWith('.js'))
    .map((f) => join(dir, f))
  return [
    sized('loader', 'polyfill loader (what a page blocks on)', loader),
    sized('native', 'polyfill ready in a browser with payment handlers (loader + native chunks)', nativeReady),
    sized('fallback', 'polyfill loader + fallback', all),
  ]
}

/**
 * The handler's service worker (one classic script) and the checkout page: checkout.html plus the
 * scripts, module preloads and stylesheets it links, with their static imports. Icons are left out.
 */
export function measureHandler(dir: string): BundleSize[] {
  const html = readFileSync(join(dir, 'checkout.html'), 'utf8')
  const linked = [...html.matchAll(/(?:src|href)="\/pay\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!)
  const files = new Set<string>([join(dir, 'checkout.html')])
  for (const file of linked) {
    if (file.endsWith('.css')) files.add(join(dir, file))
    else for (const path of withStaticImports(dir, file)) files.add(path)
  }
  return [
    sized('serviceWorker', 'service worker (sw.js)', [join(dir, 'sw.js')]),
    sized('checkout', 'checkout page (html + js + css)', [...files]),
  ]
}

/** Every budgeted bundle, measured from built folders. */
export function measureBundles(dirs: BundleDirs = DEFAULT_BUNDLE_DIRS): BundleSize[] {
  for (const dir of [dirs.handlerDir, dirs.polyfillDir]) {
    if (!existsSync(dir)) throw new Error(`[alipay] ${dir} does not exist. Run "npm run build" first.`)
  }
  return [...measurePolyfill(dirs.polyfillDir), ...measureHandler(dirs.handlerDir)]
}

/** "12.34 KB" (KiB, as the budgets are written). */
export function formatKb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`
}

/** One line per bundle, with OVER BUDGET where it is. */
export function formatSizes(sizes: readonly BundleSize[]): string {
  return sizes
    .map(
      (s) =>
        `[alipay] ${s.label}: ${formatKb(s.gzipBytes)} min+gzip (${formatKb(s.rawBytes)} min), budget ${formatKb(s.budget)}` +
        (s.gzipBytes > s.budget ? ' — OVER BUDGET' : ''),
    )
    .join('\n')
}

// `tsx scripts/size-budget.ts` (the last step of `npm run build`): exit 1 when a bundle is over budget.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = measureBundles()
  console.log(formatSizes(sizes))
  const over = sizes.filter((s) => s.gzipBytes > s.budget)
  if (over.length > 0) {
    console.error(
      `[alipay] ${over.map((s) => s.label).join(', ')} over the size budget. ` +
        'See what a bundle pulls in with e.g. `npx esbuild packages/handler/src/sw/sw.ts --bundle --minify --analyze`.',
    )
    process.exitCode = 1
  }
}
