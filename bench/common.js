// Shared by the bench scripts: where the built CLI is, and a clear failure when it is not there.
import {spawnSync} from 'node:child_process'
import {
  existsSync, mkdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
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

/**
 * The machine's load, to print beside the figures: on a shared machine, other processes competing
 * for the cores stretch every wall-clock time.
 */
export function machineLoad() {
  return {cores: cpus().length, loadAverage1m: loadavg()[0]}
}

export function describeLoad(start, end) {
  return `machine: ${start.cores} cores, 1-minute load average ${start.loadAverage1m.toFixed(1)} at the start, ${end.loadAverage1m.toFixed(1)} at the end`
}

/**
 * CPU time (user + system, all threads) of one run, in ms, by `perf stat` (task-clock); undefined
 * where perf is missing or not allowed. Less sensitive to other processes than wall-clock time,
 * though not immune (shared caches). Runs of its own: perf's start-up must not add to timed runs.
 */
export function cpuMs(args) {
  const out = path.join(tmpdir(), `staticpod-bench-perf-${process.pid}`)
  try {
    const child = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '-o', out, process.execPath, ...args], {cwd: root, env: benchEnv()})
    const line = child.error || !existsSync(out) ? undefined : readFileSync(out, 'utf8').split('\n').find(l => l.includes('task-clock'))
    const ms = Number(line?.split(',')[0])
    return Number.isFinite(ms) ? ms : undefined
  } finally {
    rmSync(out, {force: true})
  }
}
