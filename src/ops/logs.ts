/**
 * `staticpod logs NODES POD`: a static pod's container log straight from each node, through the
 * node's own `crictl logs` (or `docker logs` on dockershim / cri-dockerd nodes), so it works when
 * the API server does not; and with `--kubelet`, the kubelet's own lines about the pod and its
 * manifest file (why it did not load it, kubelet-facts §1.4).
 *
 * Per node, over one connection: the manifest probe (the pod's namespace from its file, and the
 * name the kubelet registers the node under, since the kubelet labels the containers with the mirror
 * name `<pod>-<node>`) and the container listing at once, then the log itself: two round trips
 * after another (so for `--kubelet`: the probe, then the kubelet's log). A pod whose file is gone
 * is still found by its containers.
 */
import type {NodeOptions} from '../flags.js'
import type {FanOutEvent, NodeOutcome} from '../transport/fan-out.js'
import type {ConnectedNode} from '../transport/run-on-nodes.js'
import type {NodeTarget} from '../transport/target.js'

import {RemoteCommandError, UserError} from '../errors.js'
import {type KubeletLine, kubeletLinesAbout, kubeletReason} from '../kubelet/journal.js'
import {mirrorPodName} from '../kubelet/node-name.js'
import {resolveNodes} from '../nodes/resolve.js'
import {containersOfPod, latestContainers, type RuntimeContainer} from '../runtime/containers.js'
import {
  type LogLine, logsArgv, mergeByTime, parseLogLine, parseLogOutput, worthShowing,
} from '../runtime/logs.js'
import {runOnNodes} from '../transport/run-on-nodes.js'
import {listContainers, type RuntimeName} from './containers.js'
import {followKubeletLog, lineReader, readKubeletLog} from './kubelet-log.js'
import {type NodeManifests, podKey, readNodeManifests} from './manifest-dir.js'
import {
  parsePodArg, type PodSelector, printable, selectFiles,
} from './pod-ref.js'
import {loadSchema} from './validate.js'

export interface LogsOptions extends NodeOptions {
  /** -c: the container's name; needed when the pod has several. */
  container?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  /** POD: NAME, NAMESPACE/NAME or a manifest file's base name. */
  pod: string
  /** The instance before the current one (restart count ≥ 1). */
  previous?: boolean
  sinceMs?: number
  /** NODES */
  spec: string
  tail?: number
}

/** The pod on a node, as found from its file and/or its containers. */
export interface PodOnNode {
  /** Full path of its manifest file, if it has one. */
  file?: string
  /** The mirror name `<pod>-<node name>`, which the kubelet gives its containers and log lines; unknown for a file that defines no pod. */
  mirror?: string
  /** metadata.name; unknown for a file that defines no pod. */
  name?: string
  namespace?: string
  /** The name the kubelet registers the node under. */
  nodeName: string
}

/** Which container instance a node's log comes from. */
export interface LogSource {
  container: string
  id: string
  namespace: string
  pod: string
  restarts: number
  runtime: RuntimeName
  state: RuntimeContainer['state']
}

export interface NodeLog {
  lines: LogLine[]
  source: LogSource
  /** What the runtime CLI said besides the log (warnings). */
  warnings: string[]
}

export interface LogsResult {
  nodes: Array<NodeOutcome<NodeLog>>
}

/** The last lines of each node's container log (the `tail` last per node, in the order the container wrote them). */
export async function readLogs(options: LogsOptions): Promise<LogsResult> {
  const selector = parsePodArg(options.pod)
  const {targets} = await resolveNodes(options)
  const schema = await loadSchema()
  const nodes = await runOnNodes(targets, async (node, target) => {
    const {argv, source} = await prepare(node, target, selector, options, schema)
    const result = await node.run(argv, {root: true, timeoutMs: options.timeoutMs})
    if (result.code !== 0) throw logsFailed(node.name, argv, result)
    const {lines, messages} = parseLogOutput(result.stdout, result.stderr)
    return {lines, source, warnings: messages}
  }, fanOutOptions(options))
  return {nodes}
}

/** What following needs besides the options of a one-off read. */
export interface Following {
  /** The nodes were resolved: these will be followed. */
  onNodes?: (nodes: string[]) => void
  /** Aborting (Ctrl-C) ends every node's follow; their remote commands stop when the connections close. */
  signal: AbortSignal
}

export interface FollowOptions extends Following, LogsOptions {
  onLine: (node: string, line: LogLine) => void
  /** A node's log ended by itself: its container stopped (`crictl logs -f` ends then, as `kubectl logs -f` does). */
  onStopped?: (node: string, source: LogSource) => void
}

/**
 * Follows every node's container log until the containers stop or `signal` aborts; lines come
 * as they arrive. Each node's outcome says whether it could be followed.
 */
export async function followLogs(options: FollowOptions): Promise<{nodes: Array<NodeOutcome<{source: LogSource; warnings: string[]}>>}> {
  const selector = parsePodArg(options.pod)
  const {targets} = await resolveNodes(options)
  options.onNodes?.(targets.map(target => target.name))
  const schema = await loadSchema()
  const nodes = await runOnNodes(targets, async (node, target) => {
    const {argv, source} = await prepare(node, target, selector, {...options, follow: true}, schema)
    if (options.signal.aborted) return {source, warnings: []}
    const warnings: string[] = []
    const ordered = reorder(line => options.onLine(node.name, line))
    const readers = (['stdout', 'stderr'] as const).map(stream => lineReader(raw => {
      const line = parseLogLine(raw, stream)
      if (!('message' in line)) ordered.add(line)
      else if (worthShowing(line.message)) warnings.push(line.message)
    }))
    const run = node.run(argv, {onStderr: chunk => readers[1]!.push(chunk), onStdout: chunk => readers[0]!.push(chunk), root: true})
    const result = await untilAborted(run, options.signal)
    for (const reader of readers) reader.end()
    ordered.flush()
    if (result && result.code !== 0 && result.code !== null) throw logsFailed(node.name, argv, {...result, stderr: warnings.join('\n')})
    if (result && !options.signal.aborted) options.onStopped?.(node.name, source)
    return {source, warnings}
  }, {...fanOutOptions(options), timeoutMs: undefined})
  return {nodes}
}

export type KubeletLogsOptions = Omit<LogsOptions, 'container' | 'previous'>

export interface NodeKubeletLines {
  lines: KubeletLine[]
  pod: PodOnNode
  /** Why the kubelet did not load the file, in its words; undefined when its lines say nothing of it. */
  reason?: string
  /** Where the lines come from: `journalctl -u kubelet`, a log file; undefined when the node has neither. */
  source?: string
}

/** The kubelet's lines about the pod and its file, per node. */
export async function readKubeletLines(options: KubeletLogsOptions): Promise<{nodes: Array<NodeOutcome<NodeKubeletLines>>}> {
  const selector = parsePodArg(options.pod)
  const {targets} = await resolveNodes(options)
  const schema = await loadSchema()
  const nodes = await runOnNodes(targets, async (node, target) => {
    const pod = findPod(await readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema, timeoutMs: options.timeoutMs}), selector, node.name)
    // Filtered on the node by fixed strings, exactly here; the tail applies to the lines about the pod.
    const log = await readKubeletLog(node, {grep: grepFor(pod), sinceMs: options.sinceMs, timeoutMs: options.timeoutMs})
    const about = kubeletLinesAbout(log.lines, aboutOf(pod))
    return {
      lines: lastOf(about, options.tail), pod, reason: pod.file ? kubeletReason(about, pod.file) : undefined, source: log.source,
    }
  }, fanOutOptions(options))
  return {nodes}
}

/** Follows the kubelet's lines about the pod and its file until `signal` aborts. */
export async function followKubeletLines(options: Following & KubeletLogsOptions & {
  onLine: (node: string, line: KubeletLine) => void
  onSource?: (node: string, source: string | undefined, pod: PodOnNode) => void
}): Promise<{nodes: Array<NodeOutcome<{pod: PodOnNode; source?: string}>>}> {
  const selector = parsePodArg(options.pod)
  const {targets} = await resolveNodes(options)
  options.onNodes?.(targets.map(target => target.name))
  const schema = await loadSchema()
  const nodes = await runOnNodes(targets, async (node, target) => {
    const pod = findPod(await readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema, timeoutMs: options.timeoutMs}), selector, node.name)
    let source: string | undefined
    const about = aboutOf(pod)
    const follow = followKubeletLog(node, {
      grep: grepFor(pod),
      onLine(raw) {
        for (const line of kubeletLinesAbout([raw], about)) options.onLine(node.name, line)
      },
      onSource(found) {
        source = found
        options.onSource?.(node.name, found, pod)
      },
      sinceMs: options.sinceMs,
      tail: options.tail ?? 10,
    })
    await untilAborted(follow, options.signal)
    return {pod, source}
  }, {...fanOutOptions(options), timeoutMs: undefined})
  return {nodes}
}

function fanOutOptions(options: KubeletLogsOptions | LogsOptions) {
  return {
    connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
  }
}

/** The strings a kubelet line about the pod contains, for the node-side filter. */
function grepFor(pod: PodOnNode): string[] {
  return [pod.file, pod.mirror].filter((text): text is string => text !== undefined)
}

function aboutOf(pod: PodOnNode): {file?: string; namespace?: string; pod?: string} {
  return {file: pod.file, namespace: pod.namespace, pod: pod.mirror}
}

/**
 * The two streams of a followed log arrive through two pipes: lines that come within `windowMs` of
 * each other are put back in the order of their timestamps before they are passed on.
 */
export function reorder(emit: (line: LogLine) => void, windowMs = 150): {add(line: LogLine): void; flush(): void} {
  let pending: LogLine[] = []
  let timer: NodeJS.Timeout | undefined
  const flush = (): void => {
    clearTimeout(timer)
    timer = undefined
    const lines = pending
    pending = []
    for (const line of mergeByTime(lines)) emit(line)
  }

  return {
    add(line) {
      pending.push(line)
      timer ??= setTimeout(flush, windowMs)
    },
    flush,
  }
}

/** What `promise` gives, or undefined as soon as `signal` aborts. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => {})
    return undefined
  }

  return new Promise<T | undefined>((resolve, reject) => {
    // eslint-disable-next-line unicorn/no-useless-undefined -- resolves the T | undefined promise
    const onAbort = (): void => resolve(undefined)
    signal.addEventListener('abort', onAbort, {once: true})
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** The last `n` items (all when n is undefined). */
function lastOf<T>(items: T[], n: number | undefined): T[] {
  if (n === undefined) return items
  return n === 0 ? [] : items.slice(-n)
}

function logsFailed(node: string, argv: string[], result: {code: null | number; stderr: string; stdout: string}): RemoteCommandError {
  return new RemoteCommandError(node, argv.join(' '), {...result, stdout: ''})
}

/**
 * The pod on a node from its manifest directory: the file the selector names (its pod's namespace),
 * else the selector's own name and namespace (a pod whose file is gone may still have containers).
 */
export function findPod(manifests: NodeManifests, selector: PodSelector, node: string): PodOnNode {
  const {error, files} = selectFiles(manifests.files, selector)
  if (error) throw new UserError(`${error}`, {exitCode: 1})
  const {nodeName} = manifests
  if (!nodeName) throw new UserError('cannot tell the name the kubelet registers the node under (no hostname)', {exitCode: 1})
  const file = files.find(f => f.pod) ?? files[0]
  if (file?.pod) {
    return {
      file: file.path, mirror: mirrorPodName(file.pod.name, nodeName), name: file.pod.name, namespace: file.pod.namespace, nodeName,
    }
  }

  if (selector.kind === 'file') {
    if (file) return {file: file.path, nodeName}
    throw new UserError(`no file ${printable(selector.file)} in ${manifests.dir.path}`, {
      exitCode: 1, hints: [`\`staticpod ls ${node}\` lists the files there.`],
    })
  }

  const namespace = selector.kind === 'pod' ? selector.namespace : undefined
  return {
    file: file?.path, mirror: mirrorPodName(selector.name, nodeName), name: selector.name, namespace, nodeName,
  }
}

/** Find the pod and its container on the node, and the command that prints the wanted instance's log. */
async function prepare(
  node: ConnectedNode,
  target: NodeTarget,
  selector: PodSelector,
  options: LogsOptions & {follow?: boolean},
  schema: Awaited<ReturnType<typeof loadSchema>>,
): Promise<{argv: string[]; source: LogSource}> {
  // Independent: both on the same connection at once.
  const listing = listContainers(node, {timeoutMs: options.timeoutMs})
  listing.catch(() => {})
  const manifests = await readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema, timeoutMs: options.timeoutMs})
  const pod = findPod(manifests, selector, node.name)
  const {containers, runtime} = await listing
  const chosen = pickContainer(containers, pod, options, node.name)
  const instance = options.previous ? previousInstance(containers, chosen, runtime) : chosen
  return {
    argv: logsArgv(runtime, instance.id, {
      follow: options.follow, previous: options.previous, sinceMs: options.sinceMs, tail: options.tail,
    }),
    source: {
      container: instance.name,
      id: instance.id,
      namespace: instance.podNamespace,
      pod: instance.podName,
      restarts: options.previous && runtime === 'crictl' ? instance.restarts - 1 : instance.restarts,
      runtime,
      state: options.previous && runtime === 'crictl' ? 'exited' : instance.state,
    },
  }
}

/**
 * The newest instance of the pod's container (-c, or its only one), as `kubectl logs` picks it:
 * several containers and no -c is an error that lists them.
 */
export function pickContainer(containers: readonly RuntimeContainer[], pod: PodOnNode, options: {container?: string}, node: string): RuntimeContainer {
  if (!pod.mirror || !pod.name) {
    throw new UserError(`${pod.file ?? 'the file'} does not define a pod the kubelet could run`, {
      exitCode: 1, hints: [`\`staticpod logs ${node} ${pod.file?.split('/').at(-1) ?? ''} --kubelet\` shows what the kubelet said about it.`],
    })
  }

  const namespaces = [...new Set(containers.filter(c => c.podName === pod.mirror).map(c => c.podNamespace))].sort()
  const namespace = pod.namespace ?? (namespaces.length === 1 ? namespaces[0] : undefined)
  if (pod.namespace === undefined && namespaces.length > 1) {
    throw new UserError(`pod ${pod.mirror} has containers in namespaces ${namespaces.join(', ')}: name one as NAMESPACE/NAME`, {exitCode: 1})
  }

  const own = namespace === undefined ? [] : latestContainers(containersOfPod(containers, pod.mirror, namespace))
  const shown = `${namespace ?? pod.namespace ?? 'default'}/${pod.name}`
  if (own.length === 0) {
    const why = pod.file ? `the kubelet has not started it from ${pod.file}` : 'no manifest file defines it either'
    throw new UserError(`pod ${shown} has no container (no ${pod.mirror} in the runtime): ${why}`, {
      exitCode: 1,
      hints: pod.file ? [`\`staticpod logs ${node} ${podKey({name: pod.name, namespace: namespace ?? pod.namespace ?? 'default'})} --kubelet\` shows what the kubelet said about it.`] : [],
    })
  }

  const names = own.map(c => c.name).sort()
  if (options.container !== undefined) {
    const found = own.find(c => c.name === options.container)
    if (!found) throw new UserError(`container ${options.container} is not valid for pod ${pod.mirror}: its containers are ${names.join(', ')}`, {exitCode: 1})
    return found
  }

  if (own.length > 1) {
    throw new UserError(`a container name must be specified for pod ${pod.mirror}, choose one of: [${names.join(' ')}]`, {
      exitCode: 1,
      hints: [`Add -c ${names[0]!} (or another of them).`],
    })
  }

  return own[0]!
}

/**
 * The crashed instance before `current` (restart count ≥ 1). crictl reads it by the current
 * container (`--previous`); docker keeps it as its own container (cri-dockerd's `..._<attempt>`).
 */
export function previousInstance(containers: readonly RuntimeContainer[], current: RuntimeContainer, runtime: RuntimeName): RuntimeContainer {
  const notFound = (): UserError => new UserError(`previous terminated container "${current.name}" in pod "${current.podName}" not found (restart count ${current.restarts})`, {
    exitCode: 1, hints: current.restarts === 0 ? ['The container has not been restarted: drop --previous for its log.'] : [],
  })
  if (current.restarts < 1) throw notFound()
  if (runtime === 'crictl') return current
  const before = containers.find(c => c.podUid === current.podUid && c.name === current.name && c.restarts === current.restarts - 1)
  if (!before) throw notFound()
  return before
}
