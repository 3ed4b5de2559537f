import {
  mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs'
import module, {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import vm from 'node:vm'

/**
 * Loads the fast path of `staticpod validate` (dist/fast/validate.cjs, one CommonJS bundle made by
 * scripts/bundle-fast.js: the command, js-yaml and the precompiled Pod validator) with a V8 code
 * cache, so that a run does not parse and compile half a megabyte of JavaScript again.
 *
 * Node >= 22.1 has a compile cache of its own (module.enableCompileCache, which bin/run.js turns on):
 * there the bundle is simply required. On Node 20 the bundle is compiled with vm.Script and the
 * cached data made at build time, after a warm-up run, so that it also holds the functions a run
 * compiles lazily. When V8 rejects it (another Node version or V8 flags), the bundle is compiled
 * from source and a cache made at exit is kept in the user's cache directory for the next run.
 * Nothing here ever fails a run: a cache that cannot be read or written is no cache.
 */

/** What the bundle exports. */
export interface FastPath {
  fastValidate(argv: string[], packageJsonUrl: URL): Promise<boolean>
}

const BUNDLE = fileURLToPath(new URL('../fast/validate.cjs', import.meta.url))

/** The bundle starts with this line; the hash names its caches, as V8 checks only the source's length. */
const HEADER = /^\/\/ staticpod-bundle ([\da-f]{16,})\n/

export function loadFastPath(): FastPath {
  if ('enableCompileCache' in module) return createRequire(import.meta.url)(BUNDLE) as FastPath
  const source = readFileSync(BUNDLE, 'utf8')
  const id = HEADER.exec(source)?.[1]
  if (!id) return run(compile(source))
  for (const cacheFile of [buildCacheFile, userCacheFile]) {
    const cachedData = readOrUndefined(cacheFile(id))
    if (!cachedData) continue
    const script = compile(source, cachedData)
    if (!script.cachedDataRejected) return run(script)
  }

  const script = compile(source)
  process.once('exit', () => {
    const file = userCacheFile(id)
    if (!file) return
    save(script, file)
    removeOtherBundles(path.dirname(file), id)
  })
  return run(script)
}

/**
 * Makes the build-time cache: compiles the bundle from source, runs the given validate invocations
 * (with output discarded) so that what they compile is cached too, and writes the cache next to the
 * bundle. Returns the cache file, or undefined on Node >= 22.1, where it would not be used.
 */
export async function writeBuildCache(invocations: string[][], packageJsonUrl: URL): Promise<string | undefined> {
  if ('enableCompileCache' in module) return undefined
  const source = readFileSync(BUNDLE, 'utf8')
  const id = HEADER.exec(source)?.[1]
  if (!id) throw new Error(`${BUNDLE} has no "// staticpod-bundle <hash>" first line`)
  const script = compile(source)
  const {fastValidate} = run(script)
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = () => true
  try {
    // eslint-disable-next-line no-await-in-loop -- one after the other, as separate runs would
    for (const argv of invocations) await fastValidate(argv, packageJsonUrl)
  } finally {
    process.stdout.write = write
    process.exitCode = undefined
  }

  const file = buildCacheFile(id)
  save(script, file)
  return file
}

function compile(source: string, cachedData?: Buffer): vm.Script {
  // No importModuleDynamically: the bundle has no import() (see scripts/bundle-fast.js).
  return new vm.Script(module.wrap(source), {cachedData, filename: BUNDLE})
}

function run(script: vm.Script): FastPath {
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  const bundle = {exports: {}}
  wrapper.call(bundle.exports, bundle.exports, createRequire(BUNDLE), bundle, BUNDLE, path.dirname(BUNDLE))
  return bundle.exports as FastPath
}

function buildCacheFile(id: string): string {
  return path.join(path.dirname(BUNDLE), `validate.${id}.${process.version}-${process.arch}.v8cache`)
}

/** Undefined when there is no home directory to put it in (or only a relative one, which would mean the current directory). */
function userCacheFile(id: string): string | undefined {
  try {
    // Only a run whose build-time cache does not fit needs the home directory (and node:os).
    const {homedir} = createRequire(import.meta.url)('node:os') as typeof import('node:os')
    const root = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache')
    return path.isAbsolute(root) ? path.join(root, 'staticpod', `validate.${id}.${process.version}-${process.arch}.v8cache`) : undefined
  } catch {
    return undefined
  }
}

function readOrUndefined(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

/** Caches of earlier bundles (other versions of staticpod) are of no more use. */
function removeOtherBundles(dir: string, id: string): void {
  try {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('validate.') && name.endsWith('.v8cache') && !name.startsWith(`validate.${id}.`)) rmSync(path.join(dir, name), {force: true})
    }
  } catch {
    // Left for the next run to clean.
  }
}

/** Writes the cache of what the process compiled so far; a file being replaced is never half written. */
function save(script: vm.Script, file: string): void {
  try {
    mkdirSync(path.dirname(file), {recursive: true})
    const temporary = `${file}.${process.pid}.tmp`
    writeFileSync(temporary, script.createCachedData())
    renameSync(temporary, file)
  } catch {
    // No cache this time: the next run compiles from source again.
  }
}
