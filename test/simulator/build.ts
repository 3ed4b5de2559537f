// Compiles the simulator's programs (node daemon, kubelet, shims, API server) from TypeScript to plain ESM once per
// content, into node_modules/.cache/staticpod-simulator/<hash>/. The shims run on every crictl/systemctl call, so
// they must start as plain `node file.js`, without a TypeScript loader.
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {
  mkdir, readdir, readFile, rename, rm, stat, writeFile,
} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '../..')
const CACHE = path.join(ROOT, 'node_modules/.cache/staticpod-simulator')
/** The directories whose TypeScript runs outside the test process. */
const RUNTIME_DIRS = ['apiserver', 'node', 'shared']

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true})
  return entries
  .filter(entry => entry.isFile() && entry.name.endsWith('.ts'))
  .map(entry => path.join(entry.parentPath, entry.name))
  .sort()
}

/** Builds of other source versions that nobody has used for a day (a running test uses its build for minutes). */
async function removeOldBuilds(keep: string): Promise<void> {
  const dayAgo = Date.now() - 86_400_000
  for (const entry of await readdir(CACHE)) {
    const dir = path.join(CACHE, entry)
    if (dir === keep) continue
    try {
      // eslint-disable-next-line no-await-in-loop
      if ((await stat(dir)).mtimeMs < dayAgo) await rm(dir, {force: true, recursive: true})
    } catch {
      // removed by another process meanwhile
    }
  }
}

let built: Promise<string> | undefined

/** Returns the directory holding the compiled simulator (same layout as test/simulator, `.js` files). */
export function buildSimulator(): Promise<string> {
  built ??= build()
  return built
}

async function build(): Promise<string> {
  const files = (await Promise.all(RUNTIME_DIRS.map(dir => sources(path.join(HERE, dir))))).flat()
  const hash = createHash('sha256')
  const contents = await Promise.all(files.map(file => readFile(file, 'utf8')))
  for (const [i, file] of files.entries()) hash.update(`${path.relative(HERE, file)}\0${contents[i]}\0`)
  const out = path.join(CACHE, hash.digest('hex').slice(0, 16))
  if (existsSync(path.join(out, '.complete'))) return out
  const {default: ts} = await import('typescript')
  const temporary = `${out}.tmp-${process.pid}`
  await rm(temporary, {force: true, recursive: true})
  for (const [i, file] of files.entries()) {
    const {outputText} = ts.transpileModule(contents[i]!, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext, sourceMap: false, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false,
      },
      fileName: file,
    })
    const target = path.join(temporary, path.relative(HERE, file)).replace(/\.ts$/, '.js')
    // eslint-disable-next-line no-await-in-loop
    await mkdir(path.dirname(target), {recursive: true})
    // eslint-disable-next-line no-await-in-loop
    await writeFile(target, outputText)
  }

  await writeFile(path.join(temporary, 'package.json'), '{"type": "module"}\n')
  await writeFile(path.join(temporary, '.complete'), '')
  try {
    await rename(temporary, out)
  } catch {
    // another test process built the same content first
    await rm(temporary, {force: true, recursive: true})
  }

  await removeOldBuilds(out)
  return out
}
