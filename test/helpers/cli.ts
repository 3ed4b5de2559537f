import {spawn} from 'node:child_process'
import path from 'node:path'

import {ROOT} from './fixtures.js'

export interface CliResult {
  code: null | number
  stderr: string
  stdout: string
}

export const BIN = path.join(ROOT, 'bin', 'run.js')

/** Runs the built CLI (`npm run build` first) as a user would, with a time limit. */
export function runCli(
  args: string[],
  options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: Buffer | string; timeoutMs?: number} = {},
): Promise<CliResult> {
  return runNode([BIN, ...args], options)
}

export function runNode(
  args: string[],
  options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: Buffer | string; timeoutMs?: number} = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? ROOT,
      env: {...process.env, NO_COLOR: '1', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`staticpod ${args.join(' ')} did not finish in ${options.timeoutMs ?? 30_000} ms`))
    }, options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({code, stderr, stdout})
    })
    child.stdin.end(options.input ?? '')
  })
}
