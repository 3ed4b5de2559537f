#!/usr/bin/env node
// Node >= 22.8 caches compiled code between runs; on Node 20 the call does not exist.
import module from 'node:module'

module.enableCompileCache?.()
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
