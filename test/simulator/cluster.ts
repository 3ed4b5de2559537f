// A sandbox cluster: sandbox nodes (test/sandbox) made to behave like Kubernetes nodes by the node simulator,
// plus an API server stand-in. One call starts it all, stop() tears it all down.
import {type ChildProcess, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {
  chmod, mkdir, symlink, writeFile,
} from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'

import type {Container, Sandbox as PodSandbox} from './node/runtime.js'

import {
  type ExecResult, PRIVATE_DIRS, type Sandbox, type SandboxNode, type SandboxOptions, startSandbox,
} from '../sandbox/index.js'
import {buildSimulator} from './build.js'
import {makePki} from './certs.js'
import {
  DEFAULT_MANIFEST_DIRS, kubeconfig, type Layout, layoutFiles, SIMULATOR_PRIVATE_DIRS,
} from './layouts.js'
import {formatShort, type JournalEntry} from './node/journal.js'
import {
  CONTAINERD_SOCKET, DOCKER_SOCKET, JOURNAL_FILE, NODE_CONFIG, type NodeConfig, SIM_BIN, SYSTEMD_SOCKET,
} from './node/paths.js'
import {rpc} from './node/rpc.js'

export type {Layout} from './layouts.js'
export type {JournalEntry} from './node/journal.js'
export type {Container, Sandbox as PodSandbox} from './node/runtime.js'

type Json = Record<string, unknown>

export interface ClusterNodeSpec {
  /** Registered as a control-plane node (node-role.kubernetes.io/control-plane label), as kubeadm init does. */
  controlPlane?: boolean
  /** Start the kubelet when the node boots (its unit is enabled). Default true. */
  kubelet?: boolean
  layout: Layout
  /** Where the kubelet reads static pods (default per layout: kubeadm and docker /etc/kubernetes/manifests, fedora /etc/kubelet.d, config-file /etc/kubernetes/pods). */
  manifestDir?: string
  name: string
}

export interface ClusterOptions {
  /** fileCheckFrequency written to each node's kubelet config or flags (e.g. '1s'); default: the kubelet's 20s. */
  fileCheckFrequency?: string
  /** httpCheckFrequency likewise; default 20s. */
  httpCheckFrequency?: string
  /** How long without a heartbeat before the API server marks a node NotReady. Default 40 s, as kube-controller-manager. */
  nodeMonitorGracePeriodMs?: number
  nodes: ClusterNodeSpec[]
  /** Passed on to startSandbox (bastion, port, sshdConfig, user, privateDirs). */
  sandbox?: Omit<SandboxOptions, 'nodes'>
}

export interface RuntimeState {
  containers: Container[]
  sandboxes: PodSandbox[]
}

export interface ClusterNode {
  /** The node's loopback address (its InternalIP, where its healthz and kubelet server listen). */
  readonly address: string
  /** Runs a command inside the node, as root (not over SSH). */
  exec(argv: string[], options?: {input?: string}): Promise<ExecResult>
  /** The kubelet's healthz URL, as configured by the layout. */
  readonly healthzUrl: string
  /** A path inside the node as seen from the host (only for the node's private directories, e.g. /etc/kubernetes). */
  hostPath(nodePath: string): string
  /** The node's journal entries, optionally only those of one unit (`kubelet` or `kubelet.service`). */
  journal(unit?: string): JournalEntry[]
  /** Host path of the node's journal (one JSON object per line: {ts, ident, pid, pri, msg, unit}). */
  readonly journalFile: string
  /** `journalctl -u UNIT` output (short format), read from the host. */
  journalText(unit?: string): string
  /** Kills a container's main process inside the node (`kill -SIGNAL PID`): a real crash. Returns the container killed. */
  killContainer(pod: string, container: string, signal?: NodeJS.Signals): Promise<Container>
  readonly layout: Layout
  readonly manifestDir: string
  readonly name: string
  /** Reboots the node: every process goes, /run is emptied, then the node daemon boots and starts enabled units. */
  reboot(): Promise<void>
  /** Removes a manifest from the manifest directory. */
  removeManifest(fileName: string): Promise<void>
  readonly runtime: 'containerd' | 'docker'
  /** The container runtime's pods and containers (what crictl/docker show), read over its socket. */
  runtimeState(): Promise<RuntimeState>
  readonly sandbox: SandboxNode
  /** Waits until GET healthzUrl answers 200. */
  waitHealthy(timeoutMs?: number): Promise<void>
  /** Writes a manifest into the manifest directory atomically (dot-prefixed temp file, rename). */
  writeManifest(fileName: string, content: string): Promise<void>
}

export interface Cluster {
  /** An admin request to the API server stand-in (JSON in, JSON out; throws on HTTP >= 400 with the Status message). */
  api(method: string, route: string, body?: unknown): Promise<Json>
  /** The API server stand-in's stderr log. */
  readonly apiServerLog: string
  readonly apiServerUrl: string
  /** Environment for the CLI under test: the sandbox's env(), with ~/.kube/config pointing at the cluster. */
  env(): Record<string, string>
  /** Admin kubeconfig, also installed as ~/.kube/config of the sandbox's HOME. */
  readonly kubeconfigPath: string
  /** Runs the real kubectl against the cluster. */
  kubectl(args: string[], options?: {input?: string}): Promise<ExecResult>
  node(name: string): ClusterNode
  readonly nodes: ClusterNode[]
  readonly sandbox: Sandbox
  /** Stops the API server and every node (and so every kubelet and container). Safe to call twice. */
  stop(): Promise<void>
}

const API_PORT = 6443
const HEALTHZ_PORT = 10_248

function allPrivateDirs(extra: string[] = []): string[] {
  return [...PRIVATE_DIRS, ...SIMULATOR_PRIVATE_DIRS, ...extra]
}

function isPrivate(file: string, dirs: string[]): boolean {
  return dirs.some(dir => file.startsWith(`${dir}/`))
}

function run(command: string, args: string[], options: {env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {env: options.env, stdio: 'pipe'})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', reject)
    child.on('close', code => resolve({code: code ?? 1, stderr: Buffer.concat(err).toString(), stdout: Buffer.concat(out).toString()}))
    child.stdin.end(options.input)
  })
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    // eslint-disable-next-line no-await-in-loop
    await new Promise(resolve => {
      setTimeout(resolve, 25)
    })
  }
}

function httpOk(url: string): Promise<boolean> {
  return new Promise(resolve => {
    const req = http.get(url, {timeout: 1000}, res => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
  })
}

class Node implements ClusterNode {
  readonly healthzUrl: string
  readonly runtime: 'containerd' | 'docker'

  constructor(
    readonly sandbox: SandboxNode,
    readonly layout: Layout,
    readonly manifestDir: string,
    runtime: 'containerd' | 'docker',
    private readonly boot: () => Promise<void>,
  ) {
    this.runtime = runtime
    this.healthzUrl = `http://${sandbox.address}:${HEALTHZ_PORT}/healthz`
  }

  get address(): string {
    return this.sandbox.address
  }

  get journalFile(): string {
    return this.hostPath(JOURNAL_FILE)
  }

  get name(): string {
    return this.sandbox.name
  }

  exec(argv: string[], options: {input?: string} = {}): Promise<ExecResult> {
    return this.sandbox.exec(argv, options)
  }

  hostPath(nodePath: string): string {
    return path.join(this.sandbox.root, nodePath)
  }

  journal(unit?: string): JournalEntry[] {
    const file = this.hostPath(JOURNAL_FILE)
    if (!existsSync(file)) return []
    const wanted = unit === undefined ? undefined : (unit.includes('.') ? unit : `${unit}.service`)
    const entries: JournalEntry[] = []
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue
      try {
        const entry = JSON.parse(line) as JournalEntry
        if (wanted === undefined || entry.unit === wanted) entries.push(entry)
      } catch {
        // a line being written
      }
    }

    return entries
  }

  journalText(unit = 'kubelet'): string {
    return this.journal(unit)
    .map(entry => `${formatShort(entry, this.name)}\n`)
    .join('')
  }

  async killContainer(pod: string, container: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<Container> {
    const state = await this.runtimeState()
    const podNames = new Set([`${pod}-${this.name.toLowerCase()}`, pod])
    const target = state.containers.find(c => podNames.has(c.labels['io.kubernetes.pod.name'] ?? '') && c.metadata.name === container && c.state === 'CONTAINER_RUNNING')
    if (!target) throw new Error(`no running container ${container} of pod ${pod} on ${this.name}`)
    const result = await this.exec(['sh', '-c', `kill -${signal.replace(/^SIG/, '')} ${target.pid}`])
    if (result.code !== 0) throw new Error(`kill ${target.pid} on ${this.name}: ${result.stderr}`)
    return target
  }

  async reboot(): Promise<void> {
    await this.sandbox.stop()
    await this.sandbox.start()
    await this.boot()
  }

  async removeManifest(fileName: string): Promise<void> {
    const result = await this.exec(['rm', '-f', path.posix.join(this.manifestDir, fileName)])
    if (result.code !== 0) throw new Error(result.stderr)
  }

  runtimeState(): Promise<RuntimeState> {
    const socket = this.hostPath(this.runtime === 'docker' ? DOCKER_SOCKET : CONTAINERD_SOCKET)
    return rpc<RuntimeState>(socket, 'GET', '/state')
  }

  async waitHealthy(timeoutMs = 15_000): Promise<void> {
    await waitFor(`the kubelet of ${this.name} to be healthy`, timeoutMs, () => httpOk(this.healthzUrl))
  }

  async writeManifest(fileName: string, content: string): Promise<void> {
    const target = path.posix.join(this.manifestDir, fileName)
    const temporary = path.posix.join(this.manifestDir, `.sim-${fileName}.tmp`)
    const script = 'cat > "$1" && mv -f "$1" "$2"'
    const result = await this.exec(['sh', '-c', script, 'sh', temporary, target], {input: content})
    if (result.code !== 0) throw new Error(`writing ${target} on ${this.name}: ${result.stderr}`)
  }
}

function shim(nodeBinary: string, script: string, tool?: string): string {
  return `#!/bin/sh\nexec ${nodeBinary} ${script}${tool ? ` ${tool}` : ''} "$@"\n`
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (options.nodes.length === 0) throw new Error('a cluster needs at least one node')
  const started = Date.now()
  const [build, sandbox] = await Promise.all([
    buildSimulator(),
    startSandbox({
      ...options.sandbox,
      nodes: options.nodes.map(node => node.name),
      privateDirs: [...SIMULATOR_PRIVATE_DIRS, ...(options.sandbox?.privateDirs ?? [])],
    }),
  ])
  let apiServer: ChildProcess | undefined
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    const child = apiServer
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(resolve => {
        child.once('exit', resolve)
      })
      child.kill('SIGKILL')
      await exited
    }

    await sandbox.stop()
  }

  try {
    const apiDir = path.join(sandbox.dir, 'apiserver')
    await mkdir(apiDir, {recursive: true})
    const apiAddress = sandbox.nodes[0]!.address
    const pki = await makePki(apiDir, apiAddress)
    const server = `https://${apiAddress}:${API_PORT}`
    const adminToken = randomBytes(24).toString('hex')
    const tokens: Record<string, {groups: string[]; name: string}> = {[adminToken]: {groups: ['system:masters', 'system:authenticated'], name: 'kubernetes-admin'}}
    const nodeTokens = new Map<string, string>()
    for (const spec of options.nodes) {
      const token = randomBytes(24).toString('hex')
      nodeTokens.set(spec.name, token)
      tokens[token] = {groups: ['system:nodes', 'system:authenticated'], name: `system:node:${spec.name.toLowerCase()}`}
    }

    const configFile = path.join(apiDir, 'config.json')
    await writeFile(
      configFile,
      JSON.stringify({
        address: apiAddress,
        certFile: pki.certFile,
        controlPlaneNodes: options.nodes.filter(n => n.controlPlane).map(n => n.name.toLowerCase()),
        keyFile: pki.keyFile,
        nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs ?? 40_000,
        port: API_PORT,
        tokens,
      }),
      {mode: 0o600},
    )
    const apiServerLog = path.join(apiDir, 'apiserver.log')
    const {closeSync, openSync} = await import('node:fs')
    const logFd = openSync(apiServerLog, 'a')
    apiServer = spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, path.join(build, 'apiserver/main.js'), configFile], {
      cwd: '/',
      stdio: ['ignore', 'pipe', logFd],
    })
    closeSync(logFd)
    const child = apiServer
    await new Promise<void>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('listening')) resolve()
      })
      child.once('exit', () => reject(new Error(`the API server stand-in exited: ${readFileSync(apiServerLog, 'utf8').trim()}`)))
    })

    const kubeconfigText = kubeconfig({ca: pki.ca, server, token: adminToken}, 'kubernetes-admin')
    const kubeconfigPath = path.join(sandbox.home, '.kube/config')
    await mkdir(path.dirname(kubeconfigPath), {mode: 0o700, recursive: true})
    await writeFile(kubeconfigPath, kubeconfigText, {mode: 0o600})
    await writeFile(path.join(sandbox.dir, 'kubeconfig'), kubeconfigText, {mode: 0o600})

    const privateDirs = allPrivateDirs(options.sandbox?.privateDirs)
    const config: Record<string, string> = {}
    if (options.fileCheckFrequency) config.fileCheckFrequency = options.fileCheckFrequency
    if (options.httpCheckFrequency) config.httpCheckFrequency = options.httpCheckFrequency

    const nodes = await Promise.all(options.nodes.map(async (spec, i) => {
      const sandboxNode = sandbox.nodes[i]!
      const manifestDir = spec.manifestDir ?? DEFAULT_MANIFEST_DIRS[spec.layout]
      const layout = layoutFiles({
        api: {ca: pki.ca, server, token: nodeTokens.get(spec.name)!},
        config,
        layout: spec.layout,
        manifestDir,
        nodeIp: sandboxNode.address,
      })
      const hostPath = (file: string) => path.join(sandboxNode.root, file)
      const nodeConfig: NodeConfig = {hostname: sandboxNode.hostname, nodeIp: sandboxNode.address, runtime: layout.runtime}
      const inNode: string[] = []
      const files: Record<string, string> = {...layout.files, [NODE_CONFIG]: `${JSON.stringify(nodeConfig)}\n`}
      for (const tool of layout.tools) {
        files[`${SIM_BIN}/${tool}`]
          = tool === 'kubelet' ? shim(process.execPath, path.join(build, 'node/kubelet/main.js')) : shim(process.execPath, path.join(build, 'node/cli/main.js'), tool)
      }

      for (const [file, content] of Object.entries(files)) {
        if (isPrivate(file, privateDirs)) {
          // eslint-disable-next-line no-await-in-loop
          await mkdir(path.dirname(hostPath(file)), {recursive: true})
          // eslint-disable-next-line no-await-in-loop
          await writeFile(hostPath(file), content, {mode: file.startsWith(SIM_BIN) ? 0o755 : 0o644})
          // eslint-disable-next-line no-await-in-loop
          if (file.startsWith(SIM_BIN)) await chmod(hostPath(file), 0o755)
        } else inNode.push(`mkdir -p '${path.posix.dirname(file)}' && printf '%s' '${content.replaceAll("'", String.raw`'\''`)}' > '${file}'`)
      }

      for (const dir of layout.dirs) {
        // eslint-disable-next-line no-await-in-loop
        if (isPrivate(`${dir}/x`, privateDirs)) await mkdir(hostPath(dir), {recursive: true})
        else inNode.push(`mkdir -p '${dir}'`)
      }

      if (layout.runtime === 'containerd' && spec.layout === 'kubeadm') {
        inNode.push(String.raw`printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\ntimeout: 10\n' > /etc/crictl.yaml`)
      }

      if (spec.kubelet !== false) {
        await mkdir(hostPath('/etc/systemd/system/multi-user.target.wants'), {recursive: true})
        await symlink('/etc/systemd/system/kubelet.service', hostPath('/etc/systemd/system/multi-user.target.wants/kubelet.service'))
      }

      const simd = path.join(build, 'node/simd.js')
      const boot = async () => {
        const script = [
          'set -e',
          // The shims shadow the host's /usr/local/{bin,sbin} inside this node only.
          `mount --bind ${SIM_BIN} /usr/local/bin`,
          `mount --bind ${SIM_BIN} /usr/local/sbin`,
          `setsid ${process.execPath} ${simd} </dev/null >>/var/lib/sim/simd.log 2>&1 &`,
        ].join('\n')
        const result = await sandboxNode.exec(['sh', '-c', script])
        if (result.code !== 0) throw new Error(`booting the simulator on ${spec.name}: ${result.stderr}`)
        await waitFor(`the node daemon of ${spec.name}`, 10_000, () => existsSync(hostPath(SYSTEMD_SOCKET)))
      }

      if (inNode.length > 0) {
        const result = await sandboxNode.exec(['sh', '-c', ['set -e', ...inNode].join('\n')])
        if (result.code !== 0) throw new Error(`setting up ${spec.name}: ${result.stderr}`)
      }

      const node = new Node(sandboxNode, spec.layout, manifestDir, layout.runtime, boot)
      await boot()
      if (spec.kubelet !== false) await node.waitHealthy()
      return node
    }))

    const request = (method: string, route: string, body?: unknown): Promise<Json> =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body)
        const url = new URL(route, server)
        const req = https.request(
          url,
          {
            ca: pki.ca,
            headers: {accept: 'application/json', authorization: `Bearer ${adminToken}`, ...(payload ? {'content-type': 'application/json'} : {})},
            method,
          },
          res => {
            const chunks: Buffer[] = []
            res.on('data', (chunk: Buffer) => chunks.push(chunk))
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString()
              const parsed = text ? (JSON.parse(text) as Json) : {}
              if ((res.statusCode ?? 500) >= 400) reject(Object.assign(new Error(String(parsed.message ?? text)), {status: res.statusCode}))
              else resolve(parsed)
            })
          },
        )
        req.on('error', reject)
        req.end(payload)
      })

    const cluster: Cluster = {
      api: request,
      apiServerLog,
      apiServerUrl: server,
      env: () => sandbox.env(),
      kubeconfigPath,
      kubectl: (args, opts = {}) => run('kubectl', ['--kubeconfig', kubeconfigPath, ...args], {env: {...sandbox.env(), KUBECONFIG: kubeconfigPath}, input: opts.input}),
      node(name: string) {
        const found = nodes.find(n => n.name === name)
        if (!found) throw new Error(`no cluster node ${name}`)
        return found
      },
      nodes,
      sandbox,
      stop,
    }
    if (process.env.SIM_DEBUG) process.stderr.write(`sandbox cluster started in ${Date.now() - started} ms\n`)
    return cluster
  } catch (error) {
    await stop()
    throw error
  }
}
