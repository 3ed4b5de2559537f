// `crictl` (cri-tools, CRI v1) on a containerd node: ps, pods, inspect, inspectp, logs, stop, rm, stopp, rmp,
// images, version. JSON output follows the proto3 JSON mapping crictl uses (kubelet-facts §5.1): lowerCamelCase,
// enums as names, int64 as decimal strings, zero values emitted; `inspect` rewrites times to RFC3339Nano.
import {readFileSync} from 'node:fs'

import type {Container, Sandbox} from '../runtime.js'

import {tabwrite, unitsHumanDuration} from '../../shared/format.js'
import {rfc3339Nano} from '../../shared/util.js'
import {CONTAINERD_SOCKET, CRI_DOCKERD_SOCKET} from '../paths.js'
import {rpc, RpcConnectError} from '../rpc.js'
import {
  Exit, getopt, has, last, type Output, type ParsedArgs,
} from './common.js'
import {parseSince, printLog} from './logs.js'

const DEFAULT_ENDPOINTS = ['unix:///run/containerd/containerd.sock', 'unix:///run/crio/crio.sock', 'unix:///var/run/cri-dockerd.sock']

interface State {
  containers: Container[]
  sandboxes: Sandbox[]
}

function fata(message: string): Exit {
  return new Exit(1, `time="${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}" level=fatal msg=${JSON.stringify(message)}\n`)
}

function endpointFromConfig(file: string): string | undefined {
  try {
    const match = /^runtime-endpoint:\s*["']?([^"'\s]+)/m.exec(readFileSync(file, 'utf8'))
    return match?.[1]
  } catch {
    return undefined
  }
}

function socketOf(endpoint: string): string {
  return endpoint.replace(/^unix:\/\//, '').replace(/^\/var\/run\//, '/run/')
}

class Client {
  constructor(
    private readonly endpoint: string,
    private readonly socket: string,
  ) {}

  static resolve(args: ParsedArgs, io: Output): Client {
    const explicit = last(args, 'runtime-endpoint') ?? process.env.CONTAINER_RUNTIME_ENDPOINT ?? endpointFromConfig(last(args, 'config') ?? '/etc/crictl.yaml')
    if (explicit) return new Client(explicit, socketOf(explicit))
    io.err(`WARN[0000] runtime connect using default endpoints: [${DEFAULT_ENDPOINTS.join(' ')}]. As the default settings are now deprecated, you should set the endpoint instead. \n`)
    // The first default endpoint that answers; cri-dockerd is served by the node daemon on docker nodes.
    for (const endpoint of DEFAULT_ENDPOINTS) {
      const socket = socketOf(endpoint)
      if (socket === CONTAINERD_SOCKET || socket === CRI_DOCKERD_SOCKET) {
        try {
          readFileSync(socket)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
        }

        return new Client(endpoint, socket)
      }
    }

    return new Client(DEFAULT_ENDPOINTS[0]!, CONTAINERD_SOCKET)
  }

  async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    try {
      return await rpc<T>(this.socket, method, route, body)
    } catch (error) {
      if (error instanceof RpcConnectError) {
        throw fata(`validate service connection: validate CRI v1 runtime API for endpoint "${this.endpoint}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${error.socketPath}: connect: ${error.message.replace(/^.*connect: /, '')}"`)
      }

      throw error
    }
  }

  state(): Promise<State> {
    return this.call<State>('GET', '/state')
  }
}

const CONTAINER_STATES: Record<string, string> = {
  CONTAINER_CREATED: 'Created',
  CONTAINER_EXITED: 'Exited',
  CONTAINER_RUNNING: 'Running',
  CONTAINER_UNKNOWN: 'Unknown',
}

// Proto3 JSON keeps the field order of the CRI messages (api.proto), not alphabetical order.
/* eslint-disable perfectionist/sort-objects */

/** The CRI `Container` message as crictl ps -o json prints it. */
function containerJson(c: Container): Record<string, unknown> {
  return {
    id: c.id,
    podSandboxId: c.podSandboxId,
    metadata: {name: c.metadata.name, attempt: c.metadata.attempt},
    image: {
      image: c.imageId, annotations: {}, userSpecifiedImage: c.userSpecifiedImage, runtimeHandler: '',
    },
    imageRef: c.imageId,
    state: c.state,
    createdAt: c.createdAt,
    labels: c.labels,
    annotations: c.annotations,
    imageId: c.imageId,
  }
}

/** The CRI `PodSandbox` message as crictl pods -o json prints it. */
function sandboxJson(s: Sandbox): Record<string, unknown> {
  return {
    id: s.id,
    metadata: {
      name: s.metadata.name, uid: s.metadata.uid, namespace: s.metadata.namespace, attempt: s.metadata.attempt,
    },
    state: s.state,
    createdAt: s.createdAt,
    labels: s.labels,
    annotations: s.annotations,
    runtimeHandler: '',
  }
}

const time = (ns: string) => rfc3339Nano(BigInt(ns))

/** crictl inspect: the ContainerStatus (times rewritten to RFC3339Nano), then containerd's verbose info. */
function containerStatusJson(c: Container): Record<string, unknown> {
  return {
    status: {
      id: c.id,
      metadata: {name: c.metadata.name, attempt: c.metadata.attempt},
      state: c.state,
      createdAt: time(c.createdAt),
      startedAt: time(c.startedAt),
      finishedAt: time(c.finishedAt),
      exitCode: c.exitCode,
      image: {
        image: c.image, annotations: {}, userSpecifiedImage: c.userSpecifiedImage, runtimeHandler: '',
      },
      imageRef: c.imageRef,
      reason: c.reason,
      message: c.message,
      labels: c.labels,
      annotations: c.annotations,
      mounts: [],
      logPath: c.logPath,
      resources: null,
      imageId: c.imageId,
      user: {linux: {uid: '0', gid: '0', supplementalGroups: ['0']}},
      stopSignal: 'RUNTIME_DEFAULT',
    },
    info: {
      config: {
        annotations: c.annotations,
        command: c.argv,
        image: {image: c.imageId, user_specified_image: c.userSpecifiedImage}, // eslint-disable-line camelcase -- containerd's JSON
        labels: c.labels,
        log_path: c.logPath.split('/').slice(-2).join('/'), // eslint-disable-line camelcase -- containerd's JSON
        metadata: {attempt: c.metadata.attempt, name: c.metadata.name},
      },
      pid: c.state === 'CONTAINER_RUNNING' ? c.pid : 0,
      removing: false,
      runtimeOptions: {systemd_cgroup: true}, // eslint-disable-line camelcase -- containerd's JSON
      runtimeType: 'io.containerd.runc.v2',
      sandboxID: c.podSandboxId,
      snapshotKey: c.id,
      snapshotter: 'overlayfs',
    },
  }
}

/** crictl inspectp: the PodSandboxStatus, then the runtime's verbose info. */
function sandboxStatusJson(s: Sandbox): Record<string, unknown> {
  return {
    status: {
      id: s.id,
      metadata: {
        name: s.metadata.name, uid: s.metadata.uid, namespace: s.metadata.namespace, attempt: s.metadata.attempt,
      },
      state: s.state,
      createdAt: time(s.createdAt),
      network: {additionalIps: [], ip: s.hostNetwork ? '' : s.ip},
      linux: {
        namespaces: {
          options: {
            network: s.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD', targetId: '', userNsParams: null,
          },
        },
      },
      labels: s.labels,
      annotations: s.annotations,
      runtimeHandler: '',
    },
    info: {
      image: 'registry.k8s.io/pause:3.10',
      netNamespaceClosed: s.state !== 'SANDBOX_READY',
      pid: 0,
      processStatus: s.state === 'SANDBOX_READY' ? 'running' : 'deleted',
    },
  }
}

/* eslint-enable perfectionist/sort-objects */

async function print(io: Output, format: string | undefined, value: unknown): Promise<void> {
  if (format === 'yaml') io.out((await import('yaml')).stringify(value))
  else io.out(`${JSON.stringify(value, null, 2)}\n`)
}

const truncate = (id: string) => id.slice(0, 13)
const ago = (ns: string) => `${unitsHumanDuration(Date.now() - Number(BigInt(ns) / 1_000_000n))} ago`

function matchesLabels(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every(pair => {
    const eq = pair.indexOf('=')
    return labels[pair.slice(0, eq)] === pair.slice(eq + 1)
  })
}

function byCreatedDesc<T extends {createdAt: string}>(a: T, b: T): number {
  const d = BigInt(b.createdAt) - BigInt(a.createdAt)
  return d > 0n ? 1 : (d < 0n ? -1 : 0)
}

function findContainer(state: State, id: string): Container {
  const matches = state.containers.filter(c => c.id.startsWith(id))
  if (matches.length !== 1) {
    throw fata(`getting the status of the container ${JSON.stringify(id)}: rpc error: code = NotFound desc = an error occurred when try to find container ${JSON.stringify(id)}: not found`)
  }

  return matches[0]!
}

function findSandbox(state: State, id: string): Sandbox {
  const matches = state.sandboxes.filter(s => s.id.startsWith(id))
  if (matches.length !== 1) {
    throw fata(`getting the pod sandbox status for ${JSON.stringify(id)}: rpc error: code = NotFound desc = an error occurred when try to find sandbox: not found`)
  }

  return matches[0]!
}

async function ps(client: Client, args: ParsedArgs, io: Output): Promise<void> {
  const state = await client.state()
  const wantedState = last(args, 'state', 's')
  const latest = has(args, 'latest', 'l')
  const lastN = Number(last(args, 'last') ?? 0)
  let list = state.containers.filter(c => {
    if (wantedState) return CONTAINER_STATES[c.state]?.toLowerCase() === wantedState.toLowerCase()
    if (has(args, 'all', 'a') || latest || lastN > 0) return true
    return c.state === 'CONTAINER_RUNNING'
  })
  const name = last(args, 'name')
  if (name) list = list.filter(c => new RegExp(name).test(c.metadata.name))
  const pod = last(args, 'pod', 'p')
  if (pod) list = list.filter(c => c.podSandboxId.startsWith(pod))
  const id = last(args, 'id')
  if (id) list = list.filter(c => c.id.startsWith(id))
  const namespace = last(args, 'namespace')
  if (namespace) list = list.filter(c => new RegExp(namespace).test(c.labels['io.kubernetes.pod.namespace'] ?? ''))
  const labels = args.options.get('label') ?? []
  list = list.filter(c => matchesLabels(c.labels, labels))
  const image = last(args, 'image')
  if (image) list = list.filter(c => c.image.includes(image) || c.userSpecifiedImage.includes(image) || c.imageId.includes(image))
  list.sort(byCreatedDesc)
  if (latest) list = list.slice(0, 1)
  else if (lastN > 0) list = list.slice(0, lastN)
  const output = last(args, 'output', 'o')
  if (has(args, 'quiet', 'q')) {
    io.out(list.map(c => `${c.id}\n`).join(''))
    return
  }

  if (output === 'json' || output === 'yaml') {
    await print(io, output, {containers: list.map(c => containerJson(c))})
    return
  }

  const noTrunc = has(args, 'no-trunc')
  const rows = [['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE']]
  for (const c of list) {
    rows.push([
      noTrunc ? c.id : truncate(c.id),
      noTrunc ? c.imageId : truncate(c.imageId.replace(/^sha256:/, '')),
      ago(c.createdAt),
      CONTAINER_STATES[c.state] ?? c.state,
      c.metadata.name,
      String(c.metadata.attempt),
      noTrunc ? c.podSandboxId : truncate(c.podSandboxId),
      c.labels['io.kubernetes.pod.name'] ?? 'unknown',
      c.labels['io.kubernetes.pod.namespace'] ?? 'unknown',
    ])
  }

  io.out(tabwrite(rows, 20, 3))
}

async function pods(client: Client, args: ParsedArgs, io: Output): Promise<void> {
  const state = await client.state()
  let list = [...state.sandboxes]
  const wantedState = last(args, 'state', 's')
  if (wantedState) list = list.filter(s => (s.state === 'SANDBOX_READY' ? 'ready' : 'notready') === wantedState.toLowerCase())
  const name = last(args, 'name')
  if (name) list = list.filter(s => new RegExp(name).test(s.metadata.name))
  const namespace = last(args, 'namespace')
  if (namespace) list = list.filter(s => new RegExp(namespace).test(s.metadata.namespace))
  const id = last(args, 'id')
  if (id) list = list.filter(s => s.id.startsWith(id))
  list = list.filter(s => matchesLabels(s.labels, args.options.get('label') ?? []))
  list.sort(byCreatedDesc)
  if (has(args, 'latest', 'l')) list = list.slice(0, 1)
  const lastN = Number(last(args, 'last') ?? 0)
  if (lastN > 0) list = list.slice(0, lastN)
  if (has(args, 'quiet', 'q')) {
    io.out(list.map(s => `${s.id}\n`).join(''))
    return
  }

  const output = last(args, 'output', 'o')
  if (output === 'json' || output === 'yaml') {
    await print(io, output, {items: list.map(s => sandboxJson(s))})
    return
  }

  const noTrunc = has(args, 'no-trunc')
  const rows = [['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME']]
  for (const s of list) {
    rows.push([
      noTrunc ? s.id : truncate(s.id),
      ago(s.createdAt),
      s.state === 'SANDBOX_READY' ? 'Ready' : 'NotReady',
      s.metadata.name,
      s.metadata.namespace,
      String(s.metadata.attempt),
      '(default)',
    ])
  }

  io.out(tabwrite(rows, 20, 3))
}

/** The subcommand: the first operand that is not the value of a global option. */
function subcommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (/^(-r|--runtime-endpoint|-i|--image-endpoint|-t|--timeout|-c|--config)$/.test(arg)) i++
    else if (!arg.startsWith('-')) return arg
  }

  return undefined
}

export async function crictl(argv: string[], io: Output): Promise<number> {
  const logs = subcommand(argv) === 'logs'
  const values = ['runtime-endpoint', 'r', 'image-endpoint', 'i', 'timeout', 'config', 'c', 'output', 'o', 'name', 'pod', 'state', 's', 'label', 'namespace', 'id', 'image', 'last', 'tail', 'since', 'template']
  // `-t` is --timeout globally but --timestamps for logs; `-p` is --pod for ps but --previous for logs.
  const args = getopt(argv, {values: logs ? values : [...values, 't', 'p']}, {c: 'config', i: 'image-endpoint', r: 'runtime-endpoint'})
  const [command, ...operands] = args.positional
  const client = (): Client => Client.resolve(args, io)
  switch (command) {
  case 'images':
  case 'img': {
    const state = await client().state()
    const images = new Map<string, Container>()
    for (const c of state.containers) images.set(c.image, c)
    if (last(args, 'output', 'o') === 'json') {
      await print(io, 'json', {
        images: [...images.values()].map(c => ({
          id: c.imageId, pinned: false, repoDigests: [c.imageRef], repoTags: [c.image], size: '0', spec: null, uid: null, username: '',
        })),
      })
      return 0
    }

    const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']]
    for (const c of images.values()) {
      const colon = c.image.lastIndexOf(':')
      rows.push([c.image.slice(0, colon), c.image.slice(colon + 1), truncate(c.imageId.replace(/^sha256:/, '')), '0B'])
    }

    io.out(tabwrite(rows, 20, 3))
    return 0
  }

  case 'inspect': {
    const state = await client().state()
    // eslint-disable-next-line no-await-in-loop
    for (const id of operands) await print(io, last(args, 'output', 'o'), containerStatusJson(findContainer(state, id)))
    return 0
  }

  case 'inspectp': {
    const state = await client().state()
    // eslint-disable-next-line no-await-in-loop
    for (const id of operands) await print(io, last(args, 'output', 'o'), sandboxStatusJson(findSandbox(state, id)))
    return 0
  }

  case 'logs': {
    const c = client()
    const state = await c.state()
    const [id] = operands
    if (!id) throw fata('ID cannot be empty')
    let container = findContainer(state, id)
    let file = container.logPath
    if (has(args, 'previous', 'p')) {
      if (container.metadata.attempt === 0) throw fata(`previous terminated container ${JSON.stringify(container.id)} not found`)
      file = file.replace(/\d+\.log$/, `${container.metadata.attempt - 1}.log`)
    }

    const tail = last(args, 'tail')
    const since = last(args, 'since')
    let sinceMs: number | undefined
    try {
      sinceMs = since === undefined ? undefined : parseSince(since)
    } catch (error) {
      throw fata(`failed to parse since time: ${(error as Error).message}`)
    }

    await printLog(file, io, {
      follow: has(args, 'follow', 'f')
        ? async () => {
          const now = await c.state()
          container = now.containers.find(x => x.id === container.id) ?? container
          return container.state === 'CONTAINER_RUNNING'
        }
        : undefined,
      since: sinceMs,
      tail: tail === undefined ? undefined : Number(tail),
      timestamps: has(args, 'timestamps', 't'),
    })
    return 0
  }

  case 'pods': {
    await pods(client(), args, io)
    return 0
  }

  case 'ps': {
    await ps(client(), args, io)
    return 0
  }

  case 'rm': {
    const c = client()
    const state = await c.state()
    for (const id of operands) {
      const container = findContainer(state, id)
      if (container.state === 'CONTAINER_RUNNING') {
        if (!has(args, 'force', 'f')) throw fata(`removing container ${JSON.stringify(container.id)}: rpc error: code = Unknown desc = failed to remove container ${JSON.stringify(container.id)}: container is in running state`)
        // eslint-disable-next-line no-await-in-loop
        await c.call('POST', `/containers/${container.id}/stop`, {timeout: 0})
      }

      // eslint-disable-next-line no-await-in-loop
      await c.call('DELETE', `/containers/${container.id}`)
      io.out(`${id}\n`)
    }

    return 0
  }

  case 'rmp':
  case 'stopp': {
    const c = client()
    const state = await c.state()
    for (const id of operands) {
      const sandbox = findSandbox(state, id)
      // eslint-disable-next-line no-await-in-loop
      await c.call(command === 'rmp' ? 'DELETE' : 'POST', command === 'rmp' ? `/sandboxes/${sandbox.id}` : `/sandboxes/${sandbox.id}/stop`)
      io.out(`${command === 'rmp' ? 'Removed' : 'Stopped'} sandbox ${id}\n`)
    }

    return 0
  }

  case 'stop': {
    const c = client()
    const state = await c.state()
    for (const id of operands) {
      const container = findContainer(state, id)
      // eslint-disable-next-line no-await-in-loop
      await c.call('POST', `/containers/${container.id}/stop`, {timeout: Number(last(args, 'timeout', 't') ?? 0)})
      io.out(`${id}\n`)
    }

    return 0
  }

  case undefined: {
    io.out('NAME:\n   crictl - client for CRI\n\nUSAGE:\n   crictl [global options] command [command options]\n')
    return 0
  }

  case 'version': {
    const v = await client().call<Record<string, string>>('GET', '/version')
    io.out(`Version:  ${v.version}\nRuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}\n`)
    return 0
  }

  default: {
    throw new Exit(1, `No help topic for '${command}'\n`)
  }
  }
}
