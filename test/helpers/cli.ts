import {spawn} from 'node:child_process'
import path from 'node:path'

import {ROOT} from './fixtures.js'

export interface CliResult {
  code: null | number
  /** Wall-clock time of the run. */
  ms: number
  stderr: string
  stdout: string
}

export interface SpawnOptions {
  cwd?: string
  /** The whole environment of the child (default: this process's). NO_COLOR is always set. */
  env?: NodeJS.ProcessEnv
  /** Standard input (default: none, closed at once: not a terminal). */
  input?: Buffer | string
  /** Called with the child's pid once it runs (to signal it). */
  onSpawn?: (pid: number) => void
  /** Called with the standard output so far, each time more arrives (to act on what a long run prints). */
  onStdout?: (stdout: string) => void
  timeoutMs?: number
}

export const BIN = path.join(ROOT, 'bin', 'run.js')

/** Runs the built CLI (`npm run build` first) as a user would, with a time limit. */
export function runCli(args: string[], options: SpawnOptions = {}): Promise<CliResult> {
  return runNode([BIN, ...args], options)
}

/** Runs node with these arguments. */
export function runNode(args: string[], options: SpawnOptions = {}): Promise<CliResult> {
  return spawnCapture(process.execPath, args, options)
}

/** Runs a command to its end, capturing its output; kills it and rejects after the time limit. */
export function spawnCapture(command: string, args: string[], options: SpawnOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: {...(options.env ?? process.env), NO_COLOR: '1'},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    if (child.pid !== undefined) options.onSpawn?.(child.pid)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      options.onStdout?.(stdout)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.stdin.on('error', () => {})
    child.stdin.end(options.input ?? '')
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${path.basename(command)} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({
        code, ms: Date.now() - started, stderr, stdout,
      })
    })
  })
}
