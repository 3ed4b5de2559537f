#!/usr/bin/env node
// npm run bundle: the fast path of `staticpod validate` as ONE CommonJS module, dist/fast/validate.cjs
// (the command, its writers, js-yaml, chalk and the precompiled Pod validator), and its V8 code cache
// (src/cli/fast-loader.ts loads both). One file instead of thirty saves the module loader's work, and
// CommonJS can be compiled with a code cache on Node 20. Runs after tsc: the cache is made by running
// the built loader on the shipped examples.
import {build} from 'esbuild'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {
  mkdirSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const outdir = path.join(root, 'dist', 'fast')
const bundle = path.join(outdir, 'validate.cjs')

/** src/manifest/builtin-validator.ts requires the validator by a computed path; here it becomes a static require that esbuild follows. */
const builtinValidator = {
  name: 'builtin-validator',
  setup(esbuild) {
    esbuild.onLoad({filter: /[/\\]src[/\\]manifest[/\\]builtin-validator\.ts$/}, args => ({
      contents: 'export function requireBuiltinValidator() { return require("../../schemas/pod-v1.validate.cjs") }',
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }))
  },
}

const result = await build({
  absWorkingDir: root,
  banner: {js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;'},
  bundle: true,
  // import.meta does not exist in CommonJS; the bundle sits two levels deep, as the sources do.
  define: {'import.meta.url': '__import_meta_url'},
  entryPoints: ['src/cli/fast-validate.ts'],
  // oclif only reports bugs; ajv compiles a --schema FILE: both are loaded only then, from node_modules.
  external: ['@oclif/core', 'ajv'],
  format: 'cjs',
  logLevel: 'warning',
  minifySyntax: true,
  minifyWhitespace: true,
  platform: 'node',
  plugins: [builtinValidator],
  // A dynamic import() would need a callback that vm.Script forgets when it uses cached data: external
  // modules (oclif, ajv, node:tty) are required instead, which CommonJS packages and builtins allow.
  supported: {'dynamic-import': false},
  target: 'node20',
  write: false,
})

const [output] = result.outputFiles
const code = output.text
if (/\bimport\s*\(/.test(code)) throw new Error('the fast bundle contains a dynamic import(), which cannot run from vm.Script')
const hash = createHash('sha256').update(code).digest('hex').slice(0, 20)
// Caches of earlier bundles go (their names carry another hash), and so does anything else left there.
rmSync(outdir, {force: true, recursive: true})
mkdirSync(outdir, {recursive: true})
writeFileSync(bundle, `// staticpod-bundle ${hash}\n${code}`)

// The cache is made in a fresh process with no NODE_OPTIONS: V8 rejects a cache made under other flags.
const env = {...process.env, NO_COLOR: '1'}
delete env.NODE_OPTIONS
const examples = path.join(root, 'examples')
const invocations = [[examples], [examples, '--format', 'json']]
const warmUp = `
  const {writeBuildCache} = await import(${JSON.stringify(path.join(root, 'dist', 'cli', 'fast-loader.js'))})
  const file = await writeBuildCache(${JSON.stringify(invocations)}, new URL(${JSON.stringify(pathToFileURL(path.join(root, 'package.json')).href)}))
  if (file) console.log(file)
`
const child = spawnSync(process.execPath, ['--input-type=module', '-e', warmUp], {cwd: root, encoding: 'utf8', env})
if (child.status !== 0) throw new Error(`making the code cache failed:\n${child.stderr}`)
const cache = child.stdout.trim()
if (cache && !readdirSync(outdir).includes(path.basename(cache))) throw new Error(`the code cache ${cache} was not written`)
