#!/usr/bin/env node
import { join } from 'node:path'
import { compileBundle } from './code-cache.js'

// `alipay-payment-app`, as published: dist/cli.cjs runs dist/cli-bundle.cjs (cli.ts and all it
// imports, bundled by build-bin.ts) from the code cache beside it (code-cache.ts).
compileBundle(join(__dirname, 'cli-bundle.cjs'), join(__dirname, 'cli-bundle.cache')).run()
