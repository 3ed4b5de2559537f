#!/usr/bin/env node
import module from 'node:module'

// Node >= 22.8 caches compiled code between runs; on Node 20 the call does not exist.
// eslint-disable-next-line n/no-unsupported-features/node-builtins
module.enableCompileCache?.()

// `validate` runs in pre-commit hooks on every commit: it skips loading oclif when it can, and runs
// from one bundled module (npm run bundle) with a V8 code cache (dist/cli/fast-loader.js).
const [command, ...rest] = process.argv.slice(2)
let handled = false
if (command === 'validate') {
  const {loadFastPath} = await import('../dist/cli/fast-loader.js')
  handled = await loadFastPath().fastValidate(rest, new URL('../package.json', import.meta.url))
}

if (!handled) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
