import { compileBundle, writeCodeCache } from './src/code-cache.js'

// Build step (build-bin.ts runs this bundled, with plain node):
// - `<bundle> <cache> [bin arguments]` starts the bin's bundle with those arguments, and once
//   stdin ends (the build saw /readyz answer) writes the code cache of what the start compiled;
// - `--check <bundle> <cache>` compiles the bundle and prints whether V8 took the cache.
const check = process.argv[2] === '--check'
const [bundle, cache, ...args] = process.argv.slice(check ? 3 : 2)
if (!bundle || !cache) throw new Error('usage: code-cache-writer [--check] <bundle> <cache> [bin arguments]')
if (check) {
  console.log(JSON.stringify({ cacheUsed: compileBundle(bundle, cache).cacheUsed }))
  process.exit(0)
}
process.argv = [process.argv[0]!, bundle, ...args]
const compiled = compileBundle(bundle, cache)
compiled.run()
process.stdin.resume()
process.stdin.on('end', () => {
  writeCodeCache(cache, compiled.cacheData())
  process.exit(0)
})
