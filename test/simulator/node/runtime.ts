// The container runtime stand-in (containerd, or dockerd + cri-dockerd on a docker node): pod sandboxes and
// containers with CRI semantics. Every running container is a real process on the node, in its own process group
// (killing the group is what tearing down a container's PID namespace does); its stdout and stderr go to the CRI
// log file the kubelet asked for, one `<RFC3339Nano> <stream> F <line>` per line, as containerd writes them.
import {type ChildProcess, spawn} from 'node:child_process'
import {
  createWriteStream, existsSync, mkdirSync, statSync, type WriteStream,
} from 'node:fs'
import {constants} from 'node:os'
import path from 'node:path'

import {
  killGroup, nowNs, randomId, rfc3339Nano, sha256,
} from '../shared/util.js'

export type Labels = Record<string, string>

export interface SandboxConfig {
  annotations: Labels
  hostNetwork: boolean
  labels: Labels
  logDirectory: string
  metadata: {attempt: number; name: string; namespace: string; uid: string}
}

export interface ContainerConfig {
  annotations: Labels
  args?: string[]
  command?: string[]
  env?: {name: string; value: string}[]
  image: string
  /** An init container of an image the node cannot run completes (exit 0) instead of idling. */
  init?: boolean
  labels: Labels
  /** Relative to the sandbox's log directory: `<container>/<restart>.log`. */
  logPath: string
  metadata: {attempt: number; name: string}
  stopSignal?: NodeJS.Signals
  workingDir?: string
}

export type SandboxState = 'SANDBOX_NOTREADY' | 'SANDBOX_READY'
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_EXITED' | 'CONTAINER_RUNNING' | 'CONTAINER_UNKNOWN'

export interface Sandbox {
  annotations: Labels
  /** ns since the epoch, as a decimal string (CRI int64). */
  createdAt: string
  hostNetwork: boolean
  id: string
  ip: string
  labels: Labels
  logDirectory: string
  metadata: SandboxConfig['metadata']
  state: SandboxState
}

export interface Container {
  annotations: Labels
  argv: string[]
  createdAt: string
  exitCode: number
  finishedAt: string
  id: string
  image: string
  imageId: string
  imageRef: string
  labels: Labels
  logPath: string
  message: string
  metadata: ContainerConfig['metadata']
  pid: number
  podSandboxId: string
  reason: string
  startedAt: string
  state: ContainerState
  /** The image as the pod spec names it. */
  userSpecifiedImage: string
}

const SHELL_IMAGES: Record<string, {cmd: string[]; entrypoint: string[]}> = {
  almalinux: {cmd: ['/bin/bash'], entrypoint: []},
  alpine: {cmd: ['/bin/sh'], entrypoint: []},
  amazonlinux: {cmd: ['/bin/bash'], entrypoint: []},
  bash: {cmd: ['bash'], entrypoint: ['docker-entrypoint.sh']},
  busybox: {cmd: ['sh'], entrypoint: []},
  centos: {cmd: ['/bin/bash'], entrypoint: []},
  debian: {cmd: ['bash'], entrypoint: []},
  fedora: {cmd: ['/bin/bash'], entrypoint: []},
  rockylinux: {cmd: ['/bin/bash'], entrypoint: []},
  ubuntu: {cmd: ['/bin/bash'], entrypoint: []},
}

/** docker.io/library/nginx:latest for `nginx`; keeps explicit registries, tags and digests. */
export function normalizeImage(image: string): string {
  const [name, digest] = image.split('@') as [string, string | undefined]
  const slash = name.indexOf('/')
  const first = slash === -1 ? '' : name.slice(0, slash)
  let full = first.includes('.') || first.includes(':') || first === 'localhost' ? name : `docker.io/${slash === -1 ? `library/${name}` : name}`
  if (!digest && !/:[^/]+$/.test(full)) full += ':latest'
  return digest ? `${full}@${digest}` : full
}

function repository(image: string): string {
  const name = normalizeImage(image).split('@')[0]!.replace(/:[^/]+$/, '')
  return name.slice(name.lastIndexOf('/') + 1)
}

/** What to execute for a container: the node runs shell images' commands for real; any other image idles. */
export function containerArgv(config: ContainerConfig): {argv: string[]; runs: boolean} {
  const shell = SHELL_IMAGES[repository(config.image)]
  if (!shell) return {argv: config.init ? ['true'] : ['sleep', 'infinity'], runs: false}
  const entrypoint = config.command ?? shell.entrypoint.filter(e => e !== 'docker-entrypoint.sh')
  const cmd = config.args ?? (config.command ? [] : shell.cmd)
  return {argv: [...entrypoint, ...cmd], runs: true}
}

interface LiveContainer {
  child?: ChildProcess
  config: ContainerConfig
  exited: Promise<void>
  log?: WriteStream
  record: Container
}

const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export class Runtime {
  readonly containers = new Map<string, LiveContainer>()
  readonly sandboxes = new Map<string, Sandbox>()
  private nextIp = 2

  constructor(
    readonly kind: 'containerd' | 'docker',
    private readonly nodeIp: string,
    private readonly onChange: () => void = () => {},
  ) {}

  createContainer(sandboxId: string, config: ContainerConfig): Container {
    const sandbox = this.sandboxes.get(sandboxId)
    if (!sandbox) throw new Error(`failed to get sandbox ${JSON.stringify(sandboxId)}: not found`)
    const normalized = normalizeImage(config.image)
    const digest = sha256(normalized)
    const {argv} = containerArgv(config)
    const record: Container = {
      annotations: config.annotations,
      argv,
      createdAt: nowNs().toString(),
      exitCode: 0,
      finishedAt: '0',
      id: randomId(),
      image: normalized,
      imageId: `sha256:${sha256(`config:${normalized}`)}`,
      imageRef: `${normalized.split('@')[0]!.replace(/:[^/]+$/, '')}@sha256:${digest}`,
      labels: config.labels,
      logPath: path.join(sandbox.logDirectory, config.logPath),
      message: '',
      metadata: config.metadata,
      pid: 0,
      podSandboxId: sandboxId,
      reason: '',
      startedAt: '0',
      state: 'CONTAINER_CREATED',
      userSpecifiedImage: config.image,
    }
    const live: LiveContainer = {config, exited: Promise.resolve(), record}
    this.containers.set(record.id, live)
    this.onChange()
    return record
  }

  /** Kills every container (the node daemon is going down). */
  killAll(): void {
    for (const live of this.containers.values()) {
      if (live.record.state === 'CONTAINER_RUNNING') killGroup(live.record.pid, 'SIGKILL')
    }
  }

  listContainers(): Container[] {
    return [...this.containers.values()].map(live => live.record)
  }

  listSandboxes(): Sandbox[] {
    return [...this.sandboxes.values()]
  }

  removeContainer(id: string): void {
    const live = this.containers.get(id)
    if (!live) return
    if (live.record.state === 'CONTAINER_RUNNING') throw new Error(`container ${id} is running, stop it first`)
    this.containers.delete(id)
    this.onChange()
  }

  async removeSandbox(id: string): Promise<void> {
    await this.stopSandbox(id)
    for (const [cid, live] of this.containers) if (live.record.podSandboxId === id) this.containers.delete(cid)
    this.sandboxes.delete(id)
    this.onChange()
  }

  runSandbox(config: SandboxConfig): Sandbox {
    const sandbox: Sandbox = {
      annotations: config.annotations,
      createdAt: nowNs().toString(),
      hostNetwork: config.hostNetwork,
      id: randomId(),
      ip: config.hostNetwork ? this.nodeIp : `10.88.0.${this.nextIp++}`,
      labels: config.labels,
      logDirectory: config.logDirectory,
      metadata: config.metadata,
      state: 'SANDBOX_READY',
    }
    mkdirSync(config.logDirectory, {recursive: true})
    this.sandboxes.set(sandbox.id, sandbox)
    this.onChange()
    return sandbox
  }

  /** Sends a signal to a running container's process group (docker kill / a test's "crash"). */
  signalContainer(id: string, signal: NodeJS.Signals): void {
    const live = this.containers.get(id)
    if (!live || live.record.state !== 'CONTAINER_RUNNING') throw new Error(`container ${id} is not running`)
    killGroup(live.record.pid, signal)
  }

  startContainer(id: string): void {
    const live = this.containers.get(id)
    if (!live) throw new Error(`container ${JSON.stringify(id)} not found`)
    if (live.record.state !== 'CONTAINER_CREATED') throw new Error(`container ${id} is in ${live.record.state} state`)
    const {config, record} = live
    mkdirSync(path.dirname(record.logPath), {recursive: true})
    const log = createWriteStream(record.logPath, {flags: 'a'})
    live.log = log
    const env: Record<string, string> = {HOME: '/root', HOSTNAME: this.podHostname(record.podSandboxId), PATH: NODE_PATH}
    for (const {name, value} of config.env ?? []) env[name] = value
    const cwd = config.workingDir && existsSync(config.workingDir) && statSync(config.workingDir).isDirectory() ? config.workingDir : '/'
    const [file, ...args] = record.argv
    if (file === undefined) {
      this.failStart(live, 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: no command specified: unknown')
      return
    }

    const child = spawn(file, args, {
      cwd, detached: true, env, stdio: ['ignore', 'pipe', 'pipe'],
    })
    live.child = child
    record.state = 'CONTAINER_RUNNING'
    record.startedAt = nowNs().toString()
    record.pid = child.pid ?? 0
    const streams = [this.pipeLog(child.stdout, 'stdout', log), this.pipeLog(child.stderr, 'stderr', log)]
    live.exited = new Promise<void>(resolve => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        const reason = error.code === 'ENOENT' ? `exec: ${JSON.stringify(file)}: executable file not found in $PATH` : `exec: ${JSON.stringify(file)}: ${error.code === 'EACCES' ? 'permission denied' : error.message}`
        this.failStart(live, `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: ${reason}: unknown`)
        resolve()
      })
      child.once('exit', (code, signal) => {
        // The container's PID namespace goes with its init process: nothing of it survives.
        killGroup(record.pid, 'SIGKILL', true)
        Promise.all(streams).then(() => {
          log.end()
          record.state = 'CONTAINER_EXITED'
          record.finishedAt = nowNs().toString()
          record.exitCode = code ?? 128 + signalNumber(signal)
          record.reason = record.exitCode === 0 ? 'Completed' : 'Error'
          live.child = undefined
          this.onChange()
          resolve()
        })
      })
    })
    this.onChange()
  }

  /** StopContainer: the stop signal, then SIGKILL after `timeoutSeconds`. Resolves when it has exited. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const live = this.containers.get(id)
    if (!live) return
    if (live.record.state === 'CONTAINER_CREATED') {
      live.record.state = 'CONTAINER_EXITED'
      live.record.finishedAt = nowNs().toString()
      this.onChange()
      return
    }

    if (live.record.state !== 'CONTAINER_RUNNING') return
    killGroup(live.record.pid, live.config.stopSignal ?? 'SIGTERM')
    const timer = setTimeout(() => killGroup(live.record.pid, 'SIGKILL'), Math.max(0, timeoutSeconds) * 1000)
    await live.exited
    clearTimeout(timer)
  }

  async stopSandbox(id: string): Promise<void> {
    const sandbox = this.sandboxes.get(id)
    if (!sandbox) return
    await Promise.all([...this.containers.values()].filter(live => live.record.podSandboxId === id).map(live => this.stopContainer(live.record.id, 0)))
    sandbox.state = 'SANDBOX_NOTREADY'
    this.onChange()
  }

  private failStart(live: LiveContainer, message: string): void {
    const {record} = live
    record.state = 'CONTAINER_EXITED'
    record.exitCode = 128
    record.reason = 'StartError'
    record.message = message
    record.startedAt = '0'
    record.finishedAt = nowNs().toString()
    record.pid = 0
    live.log?.end()
    this.onChange()
  }

  private async pipeLog(stream: NodeJS.ReadableStream | null, name: 'stderr' | 'stdout', log: WriteStream): Promise<void> {
    if (!stream) return
    let pending = ''
    const flush = (line: string, tag: 'F' | 'P') => log.write(`${rfc3339Nano(nowNs())} ${name} ${tag} ${line}\n`)
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      pending += chunk
      let newline = pending.indexOf('\n')
      while (newline !== -1) {
        flush(pending.slice(0, newline), 'F')
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
    })
    await new Promise<void>(resolve => {
      stream.once('end', resolve)
      stream.once('error', () => resolve())
    })
    if (pending !== '') flush(pending, 'P')
  }

  private podHostname(sandboxId: string): string {
    const sandbox = this.sandboxes.get(sandboxId)
    if (!sandbox || sandbox.hostNetwork) return process.env.HOSTNAME ?? ''
    return sandbox.metadata.name
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? constants.signals[signal] : 0
}

