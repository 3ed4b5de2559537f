// Shared by the bench scripts: where the built CLI is, and a clear failure when it is not there.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const runJs = path.join(root, 'bin', 'run.js')

/** A message for the user when the CLI cannot be benchmarked yet; undefined when it can. */
export function missingCli() {
  const command = path.join(root, 'dist', 'commands', 'validate.js')
  if (!existsSync(path.join(root, 'dist'))) return 'dist/ does not exist: run `npm run build` first.'
  if (!existsSync(command)) {
    return 'dist/commands/validate.js does not exist: the validate command is not built (run `npm run build`; is src/commands/validate.ts there?).'
  }

  const help = spawnSync(process.execPath, [runJs, 'validate', '--help'], {cwd: root, encoding: 'utf8', env: benchEnv()})
  if (help.status !== 0) {
    return `\`node bin/run.js validate --help\` failed (exit ${help.status ?? help.signal}):\n${help.stderr || help.stdout}`
  }
}

/** The environment for measured processes: no NODE_OPTIONS (a loader such as tsx would skew the figures), no colour. */
export function benchEnv() {
  const env = {...process.env, NO_COLOR: '1'}
  delete env.NODE_OPTIONS
  return env
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Keeps the figures of the last run in bench/out/ (ignored by git) for comparison between changes. */
export function saveResult(name, data) {
  const dir = path.join(root, 'bench', 'out')
  mkdirSync(dir, {recursive: true})
  const file = path.join(dir, `${name}.json`)
  writeFileSync(file, `${JSON.stringify({date: new Date().toISOString(), node: process.version, ...data}, null, 2)}\n`)
  return path.relative(root, file)
}
