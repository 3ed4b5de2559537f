import {spawn} from 'node:child_process'
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {constants} from 'node:os'

export interface ExecResult {
  /** Exit status; 128 + signal number when the process was killed by a signal, as a shell reports it. */
  code: number
  stderr: string
  stdout: string
}

export interface RunOptions {
  /** Throw a SandboxCommandError when the exit status is not 0. */
  check?: boolean
  env?: NodeJS.ProcessEnv
  input?: Buffer | string
}

export class SandboxCommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: ExecResult,
  ) {
    super(`${argv.join(' ')} exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`)
    this.name = 'SandboxCommandError'
  }
}

/** Runs a command to completion and collects its output. */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<ExecResult> {
  const result = await new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(command, args, {cwd: '/', env: options.env, stdio: 'pipe'})
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stderr: Buffer.concat(stderr).toString(),
        stdout: Buffer.concat(stdout).toString(),
      }))
    // A command that does not read its input closes the pipe early; that is not an error here.
    child.stdin.on('error', () => {})
    child.stdin.end(options.input)
  })
  if (options.check && result.code !== 0) throw new SandboxCommandError([command, ...args], result)
  return result
}

/** The fields of /proc/PID/stat after the command name: [0] is field 3 (state), [1] the ppid, ... */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot; with the pid it names one process for good. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19]
}

/** Whether the process exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0]
  return state !== undefined && state !== 'Z'
}

export function processCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return undefined
  }
}

/** Every process on the host. */
export function pids(): number[] {
  return readdirSync('/proc')
  .filter(entry => /^\d+$/.test(entry))
  .map(Number)
}

export function childPids(parent: number): number[] {
  // The kernel's own list (CONFIG_PROC_CHILDREN) saves reading every process's stat: hundreds of nodes start at once.
  try {
    const listed = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim()
    return listed === '' ? [] : listed.split(' ').map(Number)
  } catch {
    return pids().filter(pid => statFields(pid)?.[1] === String(parent))
  }
}

/** The mount namespace of a process, as `mnt:[inode]`. */
export function mountNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`)
  } catch {
    return undefined
  }
}

/** Processes in the given mount namespace. */
export function pidsInMountNamespace(namespace: string): number[] {
  return pids().filter(pid => mountNamespace(pid) === namespace)
}

export function kill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  }
}

/** Waits for every promise, then rejects with the first failure if there was one. */
export async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const failure = (await Promise.allSettled(promises)).find(result => result.status === 'rejected')
  if (failure) throw failure.reason
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => {
    setTimeout(resolve, ms)
  })
}
