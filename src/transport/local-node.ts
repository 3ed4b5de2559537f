/**
 * NodeExec on this machine, through child_process: for running staticpod on the node itself.
 * Same contract as SshNode: argv is never interpreted by a shell, root work goes through `sudo -n`
 * when we are not root, and a timeout stops the command with its whole process group.
 */
import {spawn} from 'node:child_process'
import os from 'node:os'

import type {NodeExec, RunOptions, RunResult} from './node.js'

import {formatMs} from './duration.js'
import {NodeError, NodeTimeoutError, SudoPasswordError} from './errors.js'
import {sudoMissing, sudoWantsPassword} from './remote-command.js'
import {quoteArgv} from './shell-quote.js'

export class LocalNode implements NodeExec {
  readonly name: string
  private readonly children = new Set<number>()
  private readonly isRoot: boolean

  constructor(name = os.hostname()) {
    this.name = name
    this.isRoot = process.getuid?.() === 0
  }

  /** Stops whatever is still running. */
  async close(): Promise<void> {
    for (const pid of this.children) killGroup(pid, 'SIGKILL')
    this.children.clear()
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv.length === 0) throw new Error('run: empty argv')
    const sudo = options.root === true && !this.isRoot
    const full = sudo ? ['sudo', '-n', '--', ...argv] : argv
    const result = await this.spawn(argv, full, options)
    if (sudo && sudoWantsPassword(result)) throw new SudoPasswordError(this.name, os.userInfo().username)
    if (sudo && sudoMissing(result)) throw new NodeError(this.name, 'sudo', `sudo is not installed on ${this.name}, and this user is not root`)
    return result
  }

  /** run() as root. */
  async runAsRoot(argv: string[], options: Omit<RunOptions, 'root'> = {}): Promise<RunResult> {
    return this.run(argv, {...options, root: true})
  }

  private async spawn(argv: string[], full: string[], options: RunOptions): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      // Own process group (detached), so a timeout stops the command's children too.
      const child = spawn(full[0]!, full.slice(1), {detached: true, stdio: ['pipe', 'pipe', 'pipe']})
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      let timedOut = false
      if (child.pid !== undefined) this.children.add(child.pid)
      const timer = options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
          timedOut = true
          if (child.pid !== undefined) killGroup(child.pid, 'SIGTERM')
          setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), 2000).unref()
        }, options.timeoutMs)
      child.stdout.on('data', options.onStdout ?? ((chunk: Buffer) => stdout.push(chunk)))
      child.stderr.on('data', options.onStderr ?? ((chunk: Buffer) => stderr.push(chunk)))
      child.stdin.on('error', () => {})
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        if (child.pid !== undefined) this.children.delete(child.pid)
        // Like a shell: a missing program is exit status 127.
        if (error.code === 'ENOENT') resolve({code: 127, stderr: `${full[0]}: command not found\n`, stdout: ''})
        else reject(error)
      })
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        if (child.pid !== undefined) {
          killGroup(child.pid, 'SIGTERM')
          this.children.delete(child.pid)
        }

        if (timedOut) {
          reject(new NodeTimeoutError(this.name, `\`${quoteArgv(argv)}\` did not finish within ${formatMs(options.timeoutMs ?? 0)}; stopped it`))
          return
        }

        resolve({
          code, signal: signal ?? undefined, stderr: Buffer.concat(stderr).toString('utf8'), stdout: Buffer.concat(stdout).toString('utf8'),
        })
      })
      child.stdin.end(options.stdin)
    })
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}
