import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

/**
 * The module of the precompiled Pod validator (schemas/pod-v1.validate.cjs, made by `npm run
 * schemas`). It is loaded with require, not import(): importing CommonJS from ESM runs Node's export
 * scanner over the module's half megabyte of source, which took several times longer (Node 20).
 * The fast bundle (scripts/bundle-fast.js) replaces this module with a static require of the file,
 * so that the validator is part of the bundle and of its code cache.
 */
export function requireBuiltinValidator(): unknown {
  return createRequire(import.meta.url)(fileURLToPath(new URL('../../schemas/pod-v1.validate.cjs', import.meta.url)))
}
