#!/usr/bin/env node
import module from 'node:module'

// Node >= 22.8 caches compiled code between runs; on Node 20 the call does not exist.
// eslint-disable-next-line n/no-unsupported-features/node-builtins
module.enableCompileCache?.()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
