import { hash } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'

/**
 * Runs the bin's CommonJS bundle from a V8 code cache built beside it, when the cache fits.
 *
 * Written by hand because Node 20 has no compile cache of its own (`module.enableCompileCache`
 * came in Node 22), and compiling the 780 KB bundle, plus the functions a start runs, was about a
 * fifth of the start to `/readyz` (bench `startup`). The cache is V8's serialized bytecode of the
 * bundle after a start (`dist/cli-bundle.cache`, written by the build). It is used only when:
 * - its header names the SHA-256 of the bundle's exact text (V8 itself only compares lengths, so a
 *   same-length edit of the bundle would otherwise run the old code);
 * - V8 accepts it: the same V8 version and flags as the node that built it. Any other node
 *   compiles the bundle as if there were no cache; nothing else changes.
 *
 * The bundle must not use `import()`: Node 20 loses a script's dynamic-import callback when the
 * script comes from a code cache, so the build turns each one into `require` and checks it did.
 */

/** The CommonJS wrapper Node puts around a module, so the bundle sees `require`, `module` and `__dirname`. */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { '
const WRAP_TAIL = '\n});'

/** The cache file: the 32-byte SHA-256 of the bundle's text, then V8's data. */
const DIGEST_BYTES = 32

export interface CompiledBundle {
  /** Runs the bundle's top level, as `require` would. */
  run(): void
  /** Whether the cache beside it was used (false: absent, stale or refused by V8). */
  readonly cacheUsed: boolean
  /** V8's data for the bundle's functions compiled so far, with the header that ties it to this text. */
  cacheData(): Buffer
}

export function compileBundle(bundlePath: string, cachePath: string): CompiledBundle {
  const source = readFileSync(bundlePath, 'utf8')
  const digest = hash('sha256', source, 'buffer')
  let cachedData: Buffer | undefined
  try {
    const file = readFileSync(cachePath)
    if (file.length > DIGEST_BYTES && file.subarray(0, DIGEST_BYTES).equals(digest)) {
      cachedData = file.subarray(DIGEST_BYTES)
    }
  } catch {
    // No cache (not built, or not readable): compile from the text.
  }
  const script = new Script(WRAP_HEAD + source + WRAP_TAIL, {
    filename: bundlePath,
    ...(cachedData ? { cachedData } : {}),
  })
  return {
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    run() {
      const wrapper = script.runInThisContext() as (
        exports: object,
        require: NodeJS.Require,
        module: { exports: object },
        filename: string,
        dirname: string,
      ) => void
      const module = { exports: {} }
      wrapper.call(module.exports, module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath))
    },
    cacheData: () => Buffer.concat([digest, script.createCachedData()]),
  }
}

/** Writes `data` to `path` whole or not at all, so a start never reads half a cache. */
export function writeCodeCache(path: string, data: Buffer): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, data)
  renameSync(temporary, path)
}
