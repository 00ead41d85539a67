import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HANDLER_BUILD_DIR, buildHandler } from '@alipay-payment-handler/handler/build'
import { SHOP_BUILD_DIR, buildShop } from '@alipay-payment-handler/demo-shop/build'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Folders whose files end up in the browser bundles; a newer file in any of them means rebuild. */
const BROWSER_SOURCES = [
  'packages/protocol/src',
  'packages/handler/src',
  'packages/handler/types',
  'packages/handler/build.ts',
  'packages/polyfill/src',
  'apps/demo-shop/web',
  'apps/demo-shop/shared',
]

/** Remembers what the last build was built from, next to the bundles (dist/ is gitignored). */
const STAMP = join(ROOT, 'dist', '.browser-build.json')

function newestMtime(dir: string): number {
  if (!statSync(dir).isDirectory()) return statSync(dir).mtimeMs
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function sourcesMtime(): number {
  return Math.max(
    ...BROWSER_SOURCES.map((dir) => join(ROOT, dir))
      .filter(existsSync)
      .map(newestMtime),
  )
}

/** True when both bundles exist and no browser source changed since they were built. */
export function browserBuildIsFresh(): boolean {
  if (!existsSync(join(HANDLER_BUILD_DIR, 'sw.js')) || !existsSync(join(SHOP_BUILD_DIR, 'index.html'))) return false
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as { sources?: unknown }
    return stamp.sources === sourcesMtime()
  } catch {
    return false
  }
}

/**
 * Builds the payment app's pages and worker (packages/handler/dist/app) and the shop (dist/demo-shop),
 * unless they are already current. Returns what it did, for the start-up log.
 */
export async function buildBrowserParts(options: { force?: boolean } = {}): Promise<'built' | 'fresh'> {
  if (!options.force && browserBuildIsFresh()) return 'fresh'
  const sources = sourcesMtime()
  await buildHandler()
  await buildShop()
  writeFileSync(STAMP, JSON.stringify({ sources, builtAt: new Date().toISOString() }))
  return 'built'
}

/** The bundles' folders, for the servers that serve them. */
export const BUILD_DIRS = { handler: HANDLER_BUILD_DIR, shop: SHOP_BUILD_DIR } as const
