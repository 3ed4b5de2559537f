// Where sandboxes live on the host, who owns them, and how they are torn down when their owner cannot do it.
import {
  existsSync, readdirSync, readFileSync, rmSync, statSync,
} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {
  isRunning, kill, processCommandLine, processStartTime,
} from './process.js'

/** Every sandbox is a numbered directory here; its number N gives it the addresses 127.77.N.0/24 (and 127.78-84.N.0/24 for more than 253 nodes). */
export const SANDBOX_BASE = '/tmp/staticpod-sandbox'
export const MAX_SANDBOXES = 254

const OWNER_FILE = 'owner.json'
/** A directory just created by mkdir has no owner file for a moment: it is not stale before this age. */
const UNCLAIMED_GRACE_MS = 60_000

interface Owner {
  pid: number
  startTime: string | undefined
}

/** Claims the lowest free sandbox number (mkdir is atomic, so concurrent test processes never share one). */
export async function allocateSandboxDir(): Promise<{dir: string; index: number}> {
  await mkdir(SANDBOX_BASE, {mode: 0o755, recursive: true})
  for (let index = 1; index <= MAX_SANDBOXES; index++) {
    const dir = path.join(SANDBOX_BASE, String(index))
    try {
      // eslint-disable-next-line no-await-in-loop
      await mkdir(dir, {mode: 0o755})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw error
    }

    const owner: Owner = {pid: process.pid, startTime: processStartTime(process.pid)}
    // eslint-disable-next-line no-await-in-loop
    await writeFile(path.join(dir, OWNER_FILE), JSON.stringify(owner))
    return {dir, index}
  }

  throw new Error(`all ${MAX_SANDBOXES} sandbox slots under ${SANDBOX_BASE} are taken`)
}

function ownerAlive(dir: string): boolean {
  let owner: Owner
  try {
    owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Owner
  } catch {
    try {
      return Date.now() - statSync(dir).mtimeMs < UNCLAIMED_GRACE_MS
    } catch {
      return true // gone already
    }
  }

  // A zombie is dead too: a killed test runner stays one until its parent notices.
  return isRunning(owner.pid) && processStartTime(owner.pid) === owner.startTime
}

/** pid files of the processes to kill when reaping: the agent's and each node's unshare process. */
function pidFiles(dir: string): string[] {
  const nodes = path.join(dir, 'nodes')
  const nodeDirs = existsSync(nodes) ? readdirSync(nodes).map(name => path.join(nodes, name)) : []
  return [path.join(dir, 'agent.pid'), ...nodeDirs.map(nodeDir => path.join(nodeDir, 'unshare.pid'))]
}

/**
 * Kills what a sandbox directory's pid files name (if it still is that sandbox's process) and removes the
 * directory. Killing a node's unshare process kills its pid 1 (unshare --kill-child), and with it the node's
 * PID and mount namespaces.
 */
export function reapSandboxDirSync(dir: string, extraPids: number[] = []): void {
  const recorded = pidFiles(dir).flatMap(file => {
    try {
      return [Number.parseInt(readFileSync(file, 'utf8'), 10)]
    } catch {
      return []
    }
  })
  for (const pid of recorded) {
    if (processCommandLine(pid)?.includes(`${dir}/`)) kill(pid, 'SIGKILL')
  }

  for (const pid of extraPids) kill(pid, 'SIGKILL')
  rmSync(dir, {force: true, recursive: true})
}

/**
 * Reaps the sandboxes of processes that are gone (a crashed or killed test run). startSandbox() calls it
 * first; returns the directories it removed.
 */
export function cleanupStale(): string[] {
  if (!existsSync(SANDBOX_BASE)) return []
  const stale = readdirSync(SANDBOX_BASE)
  .filter(entry => /^\d+$/.test(entry))
  .map(entry => path.join(SANDBOX_BASE, entry))
  .filter(dir => !ownerAlive(dir))
  for (const dir of stale) reapSandboxDirSync(dir)
  return stale
}

export interface LiveSandbox {
  dir: string
  /** Host pids to SIGKILL if the process exits before the sandbox is stopped. */
  pids(): number[]
  stop(): Promise<void>
}

const live = new Set<LiveSandbox>()
const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const

/** Last resort, when the process exits with sandboxes up: nothing asynchronous can run any more. */
function reapLiveSync(): void {
  for (const sandbox of live) reapSandboxDirSync(sandbox.dir, sandbox.pids())
  live.clear()
}

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  for (const name of SIGNALS) process.removeListener(name, onSignal)
  await Promise.allSettled([...live].map(sandbox => sandbox.stop()))
  // If nobody else handles the signal, die of it as we would have without our handler.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function registerHandlers(): void {
  process.on('exit', reapLiveSync)
  for (const name of SIGNALS) process.on(name, onSignal)
}

function unregisterHandlers(): void {
  process.removeListener('exit', reapLiveSync)
  for (const name of SIGNALS) process.removeListener(name, onSignal)
}

/** Stops the sandbox if the process is interrupted (SIGINT, SIGTERM, SIGHUP), reaps it if it exits, before untrack(). */
export function track(sandbox: LiveSandbox): void {
  if (live.size === 0) registerHandlers()
  live.add(sandbox)
}

export function untrack(sandbox: LiveSandbox): void {
  live.delete(sandbox)
  if (live.size === 0) unregisterHandlers()
}
