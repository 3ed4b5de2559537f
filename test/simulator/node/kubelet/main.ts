import {lookup} from 'node:dns/promises'
/* eslint-disable n/no-process-exit, unicorn/no-process-exit -- a program's entry point: its exit status is what systemd sees */
// The kubelet stand-in (emulates kubelet v1.34). Run by the node's systemd stand-in as the ExecStart= of
// kubelet.service, with argv[0] set to the unit's binary path. It fails like the kubelet does (unknown flag, bad
// config, unreachable runtime: "command failed" in the journal, exit 1), then serves /healthz, runs the static
// pods of its file and HTTP sources, and keeps its Node and mirror pods in the API server.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import {hostname} from 'node:os'

import type {StaticPod} from './manifest.js'

import {klogTo} from '../../shared/klog.js'
import {
  background, errorMessage, nowNs, parseGoDuration, rfc3339Nano,
} from '../../shared/util.js'
import {parseCriLog} from '../cli/logs.js'
import {NODE_CONFIG, type NodeConfig} from '../paths.js'
import {rpc, RpcConnectError} from '../rpc.js'
import {ApiClient, loadKubeconfig} from './api.js'
import {ConfigError, type EffectiveConfig, effectiveConfig} from './config.js'
import {
  FlagError, lastValue, type ParsedFlags, parseKubeletFlags,
} from './flags.js'
import {KUBELET_VERSION, MirrorManager} from './mirror.js'
import {type DesiredPod, PodManager} from './pods.js'
import {FileSource, HttpSource} from './sources.js'

const log = klogTo(line => process.stderr.write(line))

function fail(err: string): never {
  log.error('run.go:72', 'command failed', 'err', err)
  process.exit(1)
}

function setProcessName(): void {
  try {
    writeFileSync('/proc/self/comm', 'kubelet')
  } catch {
    // not Linux, or not allowed: only `ps -C kubelet` is affected
  }
}

async function nodeAddress(flags: ParsedFlags, nodeName: string): Promise<string> {
  const explicit = lastValue(flags, 'node-ip')
  if (explicit) return explicit
  // As the kubelet does without --node-ip: the address its hostname resolves to (the node's /etc/hosts).
  try {
    return (await lookup(nodeName, {family: 4})).address
  } catch {
    const config = existsSync(NODE_CONFIG) ? (JSON.parse(readFileSync(NODE_CONFIG, 'utf8')) as NodeConfig) : undefined
    return config?.nodeIp ?? '127.0.0.1'
  }
}

function serveHealthz(config: EffectiveConfig): void {
  if (config.healthzPort === 0) return
  const listen = () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) {
        res.writeHead(200, {'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff'})
        res.end('ok')
      } else {
        res.writeHead(404, {'content-type': 'text/plain; charset=utf-8'})
        res.end('404 page not found\n')
      }
    })
    server.once('error', error => {
      log.error('server.go:1275', 'Failed to start healthz server', 'err', `listen tcp ${config.healthzBindAddress}:${config.healthzPort}: bind: ${(error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'address already in use' : errorMessage(error)}`)
      setTimeout(listen, 5000)
    })
    server.listen(config.healthzPort, config.healthzBindAddress)
  }

  listen()
}

/** A container's log (CRI format on disk) as the kubelet's /containerLogs endpoint serves it: the text, in order. */
function containerLog(pods: PodManager, namespace: string, pod: string, container: string, query: URLSearchParams): string | undefined {
  const candidates = pods.state.containers
  .filter(c => c.labels['io.kubernetes.pod.namespace'] === namespace && c.labels['io.kubernetes.pod.name'] === pod && c.metadata.name === container)
  .sort((a, b) => b.metadata.attempt - a.metadata.attempt)
  const latest = candidates[0]
  if (!latest) return undefined
  let file = latest.logPath
  if (query.get('previous') === 'true') {
    if (latest.metadata.attempt === 0) return undefined
    file = file.replace(/\d+\.log$/, `${latest.metadata.attempt - 1}.log`)
  }

  let lines = parseCriLog(existsSync(file) ? readFileSync(file, 'utf8') : '')
  const tail = query.get('tailLines')
  if (tail !== null) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail))
  const timestamps = query.get('timestamps') === 'true'
  return lines.map(line => `${timestamps ? `${line.time} ` : ''}${line.text}\n`).join('')
}

/**
 * The kubelet's main server, reduced to what the API server stand-in proxies to it: /configz, /pods, /healthz and
 * /containerLogs/<ns>/<pod>/<container> (plain HTTP on the node's address; the real one is HTTPS with authn/z).
 */
function serveKubeletApi(address: string, config: EffectiveConfig, pods: PodManager): void {
  const port = Number(config.config.port ?? 10_250)
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, {'content-type': type})
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    }

    const url = new URL(req.url ?? '/', 'http://kubelet')
    const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    switch (url.pathname) {
    case '/configz': {
      send(200, {kubeletconfig: config.config})
      break;
    }

    case '/healthz': {
      send(200, 'ok', 'text/plain')
      break;
    }

    case '/pods': {
      send(200, {
        apiVersion: 'v1', items: [...pods.desired.values()].map(p => p.pod), kind: 'PodList', metadata: {},
      })
      break;
    }

    default: {if (logs) {
      const [, namespace, pod, container] = logs as unknown as [string, string, string, string]
      const text = containerLog(pods, namespace, pod, container, url.searchParams)
      if (text === undefined) send(404, `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} not found`, 'text/plain')
      else send(200, text, 'text/plain')
    } else send(404, '404 page not found\n', 'text/plain')
    }
    }
  })
  server.once('error', error => log.error('server.go:174', 'Failed to listen and serve', 'err', errorMessage(error)))
  server.listen(port, address)
}

async function main(): Promise<void> {
  setProcessName()
  const argv = process.argv.slice(2)
  let flags: ParsedFlags
  try {
    flags = parseKubeletFlags(argv, parseGoDuration)
  } catch (error) {
    if (error instanceof FlagError) fail(`failed to parse kubelet flag: ${error.message}`)
    throw error
  }

  if (flags.args.length > 0) fail(`unknown command ${flags.args[0]}`)
  if (flags.values.has('help')) {
    process.stdout.write('The kubelet is the primary "node agent" that runs on each node.\n\nUsage:\n  kubelet [flags]\n')
    process.exit(0)
  }

  if (flags.values.has('version')) {
    process.stdout.write(`Kubernetes ${KUBELET_VERSION}\n`)
    process.exit(0)
  }

  let config: EffectiveConfig
  try {
    config = effectiveConfig(flags)
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message)
    throw error
  }

  for (const warning of config.warnings) log.info('codec.go:98', warning.message, ...warning.values)
  log.info('server.go:529', 'Kubelet version', 'kubeletVersion', KUBELET_VERSION)
  log.info('server.go:531', 'Golang settings', 'GOGC', '', 'GOMAXPROCS', '', 'GOTRACEBACK', '')
  const nodeName = (config.hostnameOverride ?? hostname()).trim().toLowerCase()

  // The container runtime must answer before anything else happens.
  const endpoint = config.containerRuntimeEndpoint
  const socket = endpoint.replace(/^unix:\/\//, '').replace(/^\/var\/run\//, '/run/')
  let runtimeInfo: {runtimeName: string; runtimeVersion: string}
  try {
    runtimeInfo = await rpc(socket, 'GET', '/version', undefined, 5000)
  } catch (error) {
    const detail = error instanceof RpcConnectError ? `dial unix ${socket}: connect: ${error.message.replace(/^.*connect: /, '')}` : errorMessage(error)
    fail(`failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint ${JSON.stringify(endpoint)}: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: ${detail}"`)
  }

  log.info('kuberuntime_manager.go:262', 'Container runtime initialized', 'containerRuntime', runtimeInfo.runtimeName, 'version', runtimeInfo.runtimeVersion, 'apiVersion', 'v1')

  let api: ApiClient | undefined
  if (config.kubeconfig) {
    let file = config.kubeconfig
    if (!existsSync(file)) {
      const bootstrap = lastValue(flags, 'bootstrap-kubeconfig')
      if (!bootstrap || !existsSync(bootstrap)) {
        fail(`failed to run Kubelet: unable to load bootstrap kubeconfig: stat ${bootstrap ?? ''}: no such file or directory`)
      }

      file = bootstrap
    }

    try {
      api = new ApiClient(loadKubeconfig(file), `kubelet/${KUBELET_VERSION} (linux/amd64) kubernetes/simulator`)
    } catch (error) {
      fail(`failed to run Kubelet: invalid kubeconfig: ${errorMessage(error)}`)
    }
  } else log.info('server.go:664', 'Standalone mode, no API client')

  const nodeIp = await nodeAddress(flags, nodeName)
  const runtimeKind = runtimeInfo.runtimeName === 'docker' ? 'docker' : 'containerd'
  const pods = new PodManager(socket, runtimeKind, nodeIp, log)
  // The config merger: the union of the sources, config.seen set the first time this kubelet sees a UID.
  const seen = new Map<string, string>()
  const bySource: Record<'file' | 'http', StaticPod[]> = {file: [], http: []}
  const merge = (source: 'file' | 'http') => (update: StaticPod[]) => {
    bySource[source] = update
    const desired: DesiredPod[] = []
    for (const pod of [...bySource.file, ...bySource.http]) {
      if (!seen.has(pod.uid)) seen.set(pod.uid, rfc3339Nano(nowNs()))
      desired.push({...pod, seen: seen.get(pod.uid)!})
    }

    pods.setDesired(desired)
  }

  const sources: {stop(): void}[] = []
  if (config.staticPodPath) {
    log.info('kubelet.go:414', 'Adding static pod path', 'path', config.staticPodPath)
    const source = new FileSource(config.staticPodPath, nodeName, config.fileCheckFrequencyMs, log, merge('file'))
    source.start()
    sources.push(source)
  }

  if (config.staticPodURL) {
    const header: Record<string, string[]> = {}
    for (const key of Object.keys(config.staticPodURLHeader ?? {})) header[key] = ['<masked>']
    log.info('kubelet.go:419', 'Adding pod URL with HTTP header', 'URL', config.staticPodURL, 'header', header)
    const source = new HttpSource(config.staticPodURL, config.staticPodURLHeader, nodeName, config.httpCheckFrequencyMs, log, merge('http'))
    source.start()
    sources.push(source)
  }

  let mirrors: MirrorManager | undefined
  if (api && config.registerNode) {
    mirrors = new MirrorManager(
      api,
      {
        containerRuntimeVersion: `${runtimeKind}://${runtimeInfo.runtimeVersion.replace(/^v/, '')}`,
        labels: config.nodeLabels,
        name: nodeName,
        nodeIp,
        statusUpdateFrequencyMs: config.nodeStatusUpdateFrequencyMs,
      },
      log,
    )
    const m = mirrors
    let latest = new Map<string, Record<string, unknown>>()
    pods.onSynced = statuses => {
      latest = statuses
      background(m.reconcile(pods.desired, statuses))
    }

    // A watch event reaches the pod workers after a moment, not at once (the real kubelet syncs the pod first);
    // reacting instantly would win races that clients such as `kubectl delete --wait` never see on a node.
    let pending: NodeJS.Timeout | undefined
    m.onChange = () => {
      pending ??= setTimeout(() => {
        pending = undefined
        background(m.reconcile(pods.desired, latest))
      }, 150)
    }

    m.start()
  }

  pods.start()
  log.info('kubelet.go:1644', 'Starting kubelet main sync loop')
  serveHealthz(config)
  serveKubeletApi(nodeIp, config, pods)
  log.info('server.go:1275', 'Started kubelet')
  const shutdown = () => {
    for (const source of sources) source.stop()
    pods.stop()
    mirrors?.stop()
    process.exit(0)
  }

  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

try {
  await main()
} catch (error) {
  fail(errorMessage(error))
}
