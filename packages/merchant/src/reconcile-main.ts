#!/usr/bin/env node
import { reconcileCli } from './reconcile-cli.js'

// Entry point of `npm run reconcile`; everything else is in reconcile-cli.ts.
process.exitCode = await reconcileCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
})
