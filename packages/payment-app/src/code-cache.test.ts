import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compileBundle, writeCodeCache } from './code-cache.js'

declare global {
  var codeCacheRuns:
    { value: number; file: string; dir: string; viaRequire: string; viaImport: Promise<string> }[] | undefined
}

// A bundle as esbuild writes one: CommonJS that uses require, __filename and __dirname.
const bundleText = (value: number) => `"use strict";
const { basename } = require("node:path");
function answer() { return ${value}; }
(globalThis.codeCacheRuns ??= []).push({
  value: answer(), file: basename(__filename), dir: __dirname, viaRequire: typeof require("node:fs").readFileSync,
});
`

describe('the bin’s code cache', () => {
  let dir: string
  let bundle: string
  let cache: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alipay-code-cache-test-'))
    bundle = join(dir, 'cli-bundle.cjs')
    cache = join(dir, 'cli-bundle.cache')
    globalThis.codeCacheRuns = []
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
    globalThis.codeCacheRuns = undefined
  })

  let starts = 0
  /**
   * Compiles and runs the bundle as the bin does; answers what it saw and whether the cache was
   * used. Each start copies both files to a folder of its own: V8 keeps what it compiled in this
   * process by file name, and a second compile under the same name would take that, not the cache.
   */
  const start = () => {
    const here = join(dir, `start-${++starts}`)
    mkdirSync(here)
    copyFileSync(bundle, join(here, 'cli-bundle.cjs'))
    if (existsSync(cache)) copyFileSync(cache, join(here, 'cli-bundle.cache'))
    const compiled = compileBundle(join(here, 'cli-bundle.cjs'), join(here, 'cli-bundle.cache'))
    compiled.run()
    return { compiled, run: globalThis.codeCacheRuns!.at(-1)!, here }
  }

  it('runs the bundle as CommonJS, with require, __filename and __dirname of the bundle', () => {
    writeFileSync(bundle, bundleText(1111))
    const { compiled, run, here } = start()
    expect(compiled.cacheUsed).toBe(false)
    expect(run).toEqual({ value: 1111, file: 'cli-bundle.cjs', dir: here, viaRequire: 'function' })
  })

  it('uses a cache written from a start of the same bundle', () => {
    writeFileSync(bundle, bundleText(1111))
    writeCodeCache(cache, start().compiled.cacheData())
    const { compiled, run } = start()
    expect(compiled.cacheUsed).toBe(true)
    expect(run.value).toBe(1111)
  })

  it('ignores the cache of a bundle edited to the same length, and runs the new code', () => {
    // V8 checks only the length of the text a cache was made from: without the digest, the old
    // function would run here and answer 1111.
    writeFileSync(bundle, bundleText(1111))
    writeCodeCache(cache, start().compiled.cacheData())
    writeFileSync(bundle, bundleText(2222))
    expect(readFileSync(bundle, 'utf8')).toHaveLength(bundleText(1111).length)
    const { compiled, run } = start()
    expect(compiled.cacheUsed).toBe(false)
    expect(run.value).toBe(2222)
  })

  it('compiles from the text when the cache is damaged or empty', () => {
    writeFileSync(bundle, bundleText(1111))
    const good = start().compiled.cacheData()
    // The right digest, then bytes V8 cannot use.
    writeFileSync(cache, Buffer.concat([good.subarray(0, 32), Buffer.alloc(good.length - 32, 0x5a)]))
    expect(start()).toMatchObject({ compiled: { cacheUsed: false }, run: { value: 1111 } })
    writeFileSync(cache, '')
    expect(start()).toMatchObject({ compiled: { cacheUsed: false }, run: { value: 1111 } })
  })
})
