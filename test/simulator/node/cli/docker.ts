// `docker` on a docker node (dockerd + cri-dockerd): ps, inspect, logs, stop, kill, rm, version. Containers the
// kubelet created are named as cri-dockerd names them (kubelet-facts §5.2): `k8s_<container>_<pod>_<ns>_<uid>_<attempt>`,
// and each pod sandbox is a `k8s_POD_...` pause container. `--format` takes Go templates as docker's formatter
// does ({{json .}}, {{.Field}}, {{.Label "k"}}, `table`, \t and \n).

import type {Container, Sandbox} from '../runtime.js'

import {goTimeString, tabwrite, unitsHumanDuration} from '../../shared/format.js'
import {rfc3339Nano} from '../../shared/util.js'
import {DOCKER_SOCKET} from '../paths.js'
import {rpc, RpcConnectError} from '../rpc.js'
import {
  all, Exit, getopt, has, last, type Output,
} from './common.js'
import {parseSince, printLog} from './logs.js'

const API = 'v1.46'
const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10'

interface DockerContainer {
  command: string[]
  createdMs: number
  exitCode: number
  finishedAt: string
  id: string
  image: string
  imageId: string
  kind: 'container' | 'podsandbox'
  labels: Record<string, string>
  logPath: string
  name: string
  networks: string
  pid: number
  source: Container | Sandbox
  startedAt: string
  state: 'created' | 'exited' | 'running'
}

function toDocker(state: {containers: Container[]; sandboxes: Sandbox[]}): DockerContainer[] {
  const list: DockerContainer[] = []
  const sandboxes = new Map(state.sandboxes.map(s => [s.id, s]))
  for (const s of state.sandboxes) {
    const m = s.metadata
    list.push({
      command: ['/pause'],
      createdMs: Number(BigInt(s.createdAt) / 1_000_000n),
      exitCode: 0,
      finishedAt: s.state === 'SANDBOX_READY' ? '0' : s.createdAt,
      id: s.id,
      image: PAUSE_IMAGE,
      imageId: 'sha256:873ed75102791e5b0b8a7fcd41606c92fcec98d56d05ead4ac5131650004c136',
      kind: 'podsandbox',
      labels: {...s.labels, 'io.kubernetes.docker.type': 'podsandbox', ...Object.fromEntries(Object.entries(s.annotations).map(([k, v]) => [`annotation.${k}`, v]))},
      logPath: '',
      name: `k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt}`,
      networks: s.hostNetwork ? 'host' : 'none',
      pid: 0,
      source: s,
      startedAt: s.createdAt,
      state: s.state === 'SANDBOX_READY' ? 'running' : 'exited',
    })
  }

  for (const c of state.containers) {
    const sandbox = sandboxes.get(c.podSandboxId)
    const pod = sandbox?.metadata
    list.push({
      command: c.argv,
      createdMs: Number(BigInt(c.createdAt) / 1_000_000n),
      exitCode: c.exitCode,
      finishedAt: c.finishedAt,
      id: c.id,
      image: c.imageId,
      imageId: c.imageId,
      kind: 'container',
      labels: {
        ...c.labels, 'io.kubernetes.docker.type': 'container', 'io.kubernetes.sandbox.id': c.podSandboxId, ...Object.fromEntries(Object.entries(c.annotations).map(([k, v]) => [`annotation.${k}`, v])),
      },
      logPath: c.logPath,
      name: `k8s_${c.metadata.name}_${pod?.name ?? 'unknown'}_${pod?.namespace ?? 'unknown'}_${pod?.uid ?? 'unknown'}_${c.metadata.attempt}`,
      networks: '',
      pid: c.pid,
      source: c,
      startedAt: c.startedAt,
      state: c.state === 'CONTAINER_RUNNING' ? 'running' : (c.state === 'CONTAINER_CREATED' ? 'created' : 'exited'),
    })
  }

  return list.sort((a, b) => b.createdMs - a.createdMs)
}

function ellipsis(text: string, max: number): string {
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

function statusText(c: DockerContainer): string {
  if (c.state === 'running') return `Up ${unitsHumanDuration(Date.now() - Number(BigInt(c.startedAt) / 1_000_000n))}`
  if (c.state === 'created') return 'Created'
  return `Exited (${c.exitCode}) ${unitsHumanDuration(Date.now() - Number(BigInt(c.finishedAt) / 1_000_000n))} ago`
}

/** The fields of docker's ContainerContext, as `{{json .}}` prints them (all strings, keys sorted). */
function context(c: DockerContainer, noTrunc: boolean): Record<string, string> {
  const shortImage = c.image.startsWith('sha256:') && !noTrunc ? c.image.slice(7, 19) : c.image
  const command = c.command.join(' ')
  return {
    Command: JSON.stringify(noTrunc ? command : ellipsis(command, 20)),
    CreatedAt: goTimeString(Math.floor(c.createdMs / 1000) * 1000),
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Image: shortImage,
    Labels: Object.entries(c.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(','),
    LocalVolumes: '0',
    Mounts: '',
    Names: c.name,
    Networks: c.networks,
    Ports: '',
    RunningFor: `${unitsHumanDuration(Date.now() - c.createdMs)} ago`,
    Size: '0B',
    State: c.state,
    Status: statusText(c),
  }
}

/** `docker inspect` objects (the fields tools read), in the order docker prints them. */
/* eslint-disable perfectionist/sort-objects */
function inspectObject(c: DockerContainer): Record<string, unknown> {
  const time = (ns: string) => (ns === '0' ? '0001-01-01T00:00:00Z' : rfc3339Nano(BigInt(ns)))
  const [executable, ...args] = c.command
  return {
    Id: c.id,
    Created: rfc3339Nano(BigInt(c.createdMs) * 1_000_000n),
    Path: executable,
    Args: args,
    State: {
      Status: c.state,
      Running: c.state === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: c.state === 'running' ? c.pid : 0,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: time(c.startedAt),
      FinishedAt: c.state === 'exited' ? time(c.finishedAt) : '0001-01-01T00:00:00Z',
    },
    Image: c.imageId,
    LogPath: c.logPath,
    Name: `/${c.name}`,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    HostConfig: {NetworkMode: c.kind === 'podsandbox' ? c.networks : `container:${(c.source as Container).podSandboxId}`},
    Config: {
      Hostname: '',
      Env: [],
      Cmd: c.command,
      Image: c.kind === 'podsandbox' ? PAUSE_IMAGE : c.imageId,
      Labels: c.labels,
    },
  }
}
/* eslint-enable perfectionist/sort-objects */

// ---- a small Go text/template: fields, .Label, index, json, table ----

function lookup(value: unknown, path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[key]
  }

  return current
}

function renderValue(value: unknown): string {
  if (value === undefined || value === null) return '<no value>'
  if (typeof value === 'object') {
    if (Array.isArray(value)) return `[${value.map(v => renderValue(v)).join(' ')}]`
    return `map[${Object.entries(value)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${renderValue(v)}`)
    .join(' ')}]`
  }

  return String(value)
}

function evaluate(expression: string, data: Record<string, unknown>, labels: Record<string, string>): string {
  const words = expression.trim().match(/"[^"]*"|\S+/g) ?? []
  const arg = (word: string | undefined): unknown => {
    if (word === undefined) return undefined
    if (word.startsWith('"')) return JSON.parse(word)
    if (word === '.') return data
    if (word.startsWith('.')) return lookup(data, word.slice(1).split('.'))
    return word
  }

  const [head, ...rest] = words
  if (head === 'json') return JSON.stringify(arg(rest[0]) ?? null)
  if (head === '.Label') return labels[String(arg(rest[0]))] ?? ''
  if (head === 'index') {
    const base = arg(rest[0]) as Record<string, unknown> | undefined
    return renderValue(base?.[String(arg(rest[1]))] ?? '')
  }

  if (head === 'upper') return renderValue(arg(rest[0])).toUpperCase()
  if (head === 'lower') return renderValue(arg(rest[0])).toLowerCase()
  return renderValue(arg(head))
}

export function renderTemplate(format: string, data: Record<string, unknown>, labels: Record<string, string> = {}): string {
  return format.replaceAll(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_, expression: string) => evaluate(expression, data, labels))
}

const HEADERS: Record<string, string> = {
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Labels: 'LABELS',
  LocalVolumes: 'LOCAL VOLUMES',
  Mounts: 'MOUNTS',
  Names: 'NAMES',
  Networks: 'NETWORKS',
  Ports: 'PORTS',
  RunningFor: 'CREATED',
  Size: 'SIZE',
  State: 'STATE',
  Status: 'STATUS',
}

function preFormat(format: string): string {
  return format.trim().replaceAll(String.raw`\t`, '\t').replaceAll(String.raw`\n`, '\n')
}

function daemonError(error: RpcConnectError, route: string): Exit {
  if (error.code === 'EACCES') {
    return new Exit(
      1,
      `permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/${API}${route}": dial unix /var/run/docker.sock: connect: permission denied\n`,
    )
  }

  return new Exit(1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n')
}

async function call<T>(method: string, route: string, body?: unknown, dockerRoute = '/containers/json'): Promise<T> {
  try {
    return await rpc<T>(DOCKER_SOCKET, method, route, body)
  } catch (error) {
    if (error instanceof RpcConnectError) throw daemonError(error, dockerRoute)
    throw error
  }
}

async function containers(): Promise<DockerContainer[]> {
  return toDocker(await call<{containers: Container[]; sandboxes: Sandbox[]}>('GET', '/state'))
}

function find(list: DockerContainer[], ref: string): DockerContainer {
  const found = list.find(c => c.name === ref || c.name === ref.replace(/^\//, '')) ?? list.filter(c => c.id.startsWith(ref))
  if (!Array.isArray(found)) return found
  if (found.length === 1) return found[0]!
  throw new Exit(1, `Error response from daemon: No such container: ${ref}\n`)
}

function matchesFilter(c: DockerContainer, filter: string): boolean {
  const eq = filter.indexOf('=')
  const key = filter.slice(0, eq)
  const value = filter.slice(eq + 1)
  switch (key) {
  case 'id': {
    return c.id.startsWith(value)
  }

  case 'label': {
    const leq = value.indexOf('=')
    return leq === -1 ? value in c.labels : c.labels[value.slice(0, leq)] === value.slice(leq + 1)
  }

  case 'name': {
    return new RegExp(value).test(c.name)
  }

  case 'status': {
    return c.state === value
  }

  default: {
    return true
  }
  }
}

export async function docker(argv: string[], io: Output): Promise<number> {
  // `-f`/`-t` are --follow/--timestamps (flags) for logs, --filter/--time (values) elsewhere.
  const logs = argv.find(arg => !arg.startsWith('-')) === 'logs'
  const args = getopt(argv, {values: ['format', 'filter', 'last', 'n', 'time', 'signal', 's', 'tail', 'since', 'H', 'host', ...(logs ? [] : ['f', 't'])]}, {})
  const [command, ...operands] = args.positional
  switch (command) {
  case 'info': {
    const list = await containers()
    const format = last(args, 'format', 'f')
    const info = {
      CgroupDriver: 'systemd', Containers: list.length, ContainersRunning: list.filter(c => c.state === 'running').length, Driver: 'overlay2', ServerVersion: '26.1.5',
    }
    if (format) io.out(`${renderTemplate(preFormat(format), info)}\n`)
    else io.out((await import('yaml')).stringify(info))
    return 0
  }

  case 'inspect': {
    const list = await containers()
    const objects = operands.map(ref => {
      const c = find(list, ref)
      return {c, object: inspectObject(c)}
    })
    const format = last(args, 'format', 'f')
    if (format) {
      io.out(objects.map(({c, object}) => `${renderTemplate(preFormat(format), object, c.labels)}\n`).join(''))
    } else io.out(`${JSON.stringify(objects.map(({object}) => object), null, 4)}\n`)
    return 0
  }

  case 'kill': {
    const list = await containers()
    const signal = last(args, 'signal', 's') ?? 'KILL'
    for (const ref of operands) {
      const c = find(list, ref)
      if (c.state !== 'running') throw new Exit(1, `Error response from daemon: cannot kill container: ${ref}: container ${c.id} is not running\n`)
      const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`).toUpperCase() as NodeJS.Signals
      // eslint-disable-next-line no-await-in-loop
      await (c.kind === 'podsandbox' ? call('POST', `/sandboxes/${c.id}/stop`) : call('POST', `/containers/${c.id}/kill`, {signal: name}))
      io.out(`${ref}\n`)
    }

    return 0
  }

  case 'logs': {
    const list = await containers()
    const ref = operands[0]
    if (!ref) throw new Exit(1, '"docker logs" requires exactly 1 argument.\n')
    const c = find(list, ref)
    const tail = last(args, 'tail', 'n')
    const since = last(args, 'since')
    let sinceMs: number | undefined
    try {
      sinceMs = since === undefined ? undefined : parseSince(since)
    } catch (error) {
      throw new Exit(1, `invalid value for "since": ${(error as Error).message}\n`)
    }

    await printLog(c.logPath, io, {
      follow: has(args, 'follow', 'f')
        ? async () => find(await containers(), c.id).state === 'running'
        : undefined,
      since: sinceMs,
      tail: tail === undefined || tail === 'all' ? undefined : Number(tail),
      timestamps: has(args, 'timestamps', 't'),
    })
    return 0
  }

  case 'ps': {
    let list = await containers()
    if (!has(args, 'all', 'a')) list = list.filter(c => c.state === 'running')
    for (const filter of all(args, 'filter')) list = list.filter(c => matchesFilter(c, filter))
    const lastN = Number(last(args, 'last', 'n') ?? 0)
    if (has(args, 'latest', 'l')) list = list.slice(0, 1)
    else if (lastN > 0) list = list.slice(0, lastN)
    const noTrunc = has(args, 'no-trunc')
    if (has(args, 'quiet', 'q')) {
      io.out(list.map(c => `${noTrunc ? c.id : c.id.slice(0, 12)}\n`).join(''))
      return 0
    }

    const format = last(args, 'format')
    if (format && format !== 'table') {
      let template = preFormat(format)
      const table = template.startsWith('table')
      if (table) template = template.replace(/^table\s*/, '')
      const rows = list.map(c => renderTemplate(template, context(c, noTrunc), c.labels))
      if (table) {
        const header = renderTemplate(template, Object.fromEntries(Object.entries(HEADERS)))
        io.out(tabwrite([header, ...rows].map(row => row.split('\t')), 10, 3))
      } else io.out(rows.map(row => `${row}\n`).join(''))
      return 0
    }

    const rows = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']]
    for (const c of list) {
      const ctx = context(c, noTrunc)
      rows.push([ctx.ID!, ctx.Image!, ctx.Command!, ctx.RunningFor!, ctx.Status!, ctx.Ports!, ctx.Names!])
    }

    io.out(tabwrite(rows, 10, 3))
    return 0
  }

  case 'rm': {
    const list = await containers()
    for (const ref of operands) {
      const c = find(list, ref)
      if (c.state === 'running' && !has(args, 'force', 'f')) {
        throw new Exit(1, `Error response from daemon: cannot remove container "/${c.name}": container is running: stop the container before removing or force remove\n`)
      }

      if (c.kind === 'podsandbox') {
        // eslint-disable-next-line no-await-in-loop
        await call('DELETE', `/sandboxes/${c.id}`)
      } else {
        // eslint-disable-next-line no-await-in-loop
        if (c.state === 'running') await call('POST', `/containers/${c.id}/stop`, {timeout: 0})
        // eslint-disable-next-line no-await-in-loop
        await call('DELETE', `/containers/${c.id}`)
      }

      io.out(`${ref}\n`)
    }

    return 0
  }

  case 'stop': {
    const list = await containers()
    const timeout = Number(last(args, 'time', 't') ?? 10)
    for (const ref of operands) {
      const c = find(list, ref)
      // eslint-disable-next-line no-await-in-loop
      await (c.kind === 'podsandbox' ? call('POST', `/sandboxes/${c.id}/stop`) : call('POST', `/containers/${c.id}/stop`, {timeout}))
      io.out(`${ref}\n`)
    }

    return 0
  }

  case 'version': {
    await call('GET', '/version', undefined, '/version')
    const format = last(args, 'format', 'f')
    const info = {Client: {ApiVersion: '1.45', Version: '26.1.5'}, Server: {ApiVersion: '1.45', MinAPIVersion: '1.24', Version: '26.1.5'}}
    if (format) io.out(`${renderTemplate(preFormat(format), info)}\n`)
    else io.out('Client:\n Version:           26.1.5\n API version:       1.45\n\nServer:\n Engine:\n  Version:          26.1.5\n  API version:      1.45 (minimum version 1.24)\n')
    return 0
  }

  default: {
    io.err(`docker: '${command ?? ''}' is not a docker command.\nSee 'docker --help'\n`)
    return 1
  }
  }
}
