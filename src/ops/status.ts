/**
 * `staticpod status NODES [POD...]`: each static pod of each node seen from three places side by
 * side: its manifest file (one probe, as `ls`), its containers (the node's crictl or docker, one
 * more exec at the same time), and its mirror pod `<pod>-<node name>` in the API server (one list
 * per node, `fieldSelector=spec.nodeName`, sent as soon as the probe has told the kubelet's node
 * name, while the runtime is being asked). Then a verdict per pod (src/ops/status-verdict.ts).
 *
 * No kubeconfig: no mirror pods, and the verdicts do without them. An API server that does not
 * answer does not fail the nodes: their rows say the mirror pods are unknown, and the result
 * carries the error.
 */
import os from 'node:os'

import type {NodeOptions} from '../flags.js'
import type {FanOutEvent, NodeStatus} from '../transport/fan-out.js'

import {ApiClient, ApiError, DEFAULT_API_TIMEOUT_MS} from '../cluster/client.js'
import {loadClusterAccess} from '../cluster/kubeconfig.js'
import {
  listMirrorPods, type MirrorPod, namespaceExists, nodeRegistered,
} from '../cluster/mirror-pods.js'
import {RemoteCommandError, UserError} from '../errors.js'
import {type KubeletLine, kubeletLinesAbout, kubeletReason} from '../kubelet/journal.js'
import {mirrorPodName} from '../kubelet/node-name.js'
import {asArray, asObject, asString} from '../manifest/object.js'
import {parseManifest} from '../manifest/parse.js'
import {resolveNodes} from '../nodes/resolve.js'
import {type RuntimeContainer, RuntimeOutputError} from '../runtime/containers.js'
import {runOnNodes} from '../transport/run-on-nodes.js'
import {listContainers, type RuntimeName} from './containers.js'
import {type KubeletLog, type KubeletLogOptions, readKubeletLog} from './kubelet-log.js'
import {contentErrors, fileWarnings} from './ls.js'
import {type ManifestFile, type NodeManifests, readNodeManifests} from './manifest-dir.js'
import {parsePodArg, type PodSelector} from './pod-ref.js'
import {
  HEALTHY_VERDICTS, type MirrorFacts, podVerdict, type Verdict, type VerdictFile, type VerdictInput,
} from './status-verdict.js'
import {loadSchema} from './validate.js'

export interface StatusOptions extends NodeOptions {
  /** Time limit of each API request (default 10 s). */
  apiTimeoutMs?: number
  /** --context */
  context?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  /** --kubeconfig; else the inventory's kubeconfig:, KUBECONFIG, ~/.kube/config. */
  kubeconfig?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  /** POD arguments: pod names, NAMESPACE/NAME or file names; none = every static pod. */
  pods?: string[]
  /** NODES */
  spec: string
}

/** How the mirror pods were looked up: not at all (no kubeconfig), or from which API server. */
export type ClusterState = {context: string; error?: string; server: string; state: 'error' | 'ok'} | {state: 'none'}

export interface StatusContainer {
  /** ISO 8601, when the runtime created it. */
  created?: string
  id: string
  image: string
  name: string
  /** io.kubernetes.pod.uid: the kubelet's config hash of the version it belongs to (the mirror pod's config.mirror). */
  podUid: string
  restarts: number
  /** ISO 8601, from the mirror pod's status, when it says. */
  started?: string
  state: RuntimeContainer['state']
}

export interface StatusFile {
  /** Seconds since it was modified, by the node's clock. */
  ageSeconds?: number
  /** Base name. */
  file: string
  /** ISO 8601. */
  modified?: string
  path: string
  sha256?: string
  /** valid; invalid (the kubelet refuses it); error (it cannot be parsed). */
  status: 'error' | 'invalid' | 'valid'
}

export interface StatusRow {
  /** The current version's containers, newest of each name; null when the runtime could not be asked. */
  containers: null | StatusContainer[]
  file: null | StatusFile
  /** The mirror pod; null when there is none or it could not be looked up (see mirrorLookup). */
  mirror: MirrorPod | null
  /** Why the mirror pod could not be looked up (mirrorLookup 'failed'). */
  mirrorError?: string
  /** 'ok': looked up; 'no-kubeconfig'; 'failed': the API server did not answer (ClusterState.error). */
  mirrorLookup: 'failed' | 'no-kubeconfig' | 'ok'
  /** `<pod>-<node name>`. */
  mirrorName: string
  /** metadata.name; for a file that does not define a pod, its file name. */
  name: string
  namespace: string
  node: string
  reason?: string
  verdict: Verdict
}

export interface StatusNode {
  durationMs: number
  error?: string
  hints?: string[]
  node: string
  /** The name the kubelet registers (the mirror pods' suffix). */
  nodeName?: string
  rows: StatusRow[]
  runtime?: RuntimeName
  status: NodeStatus
  warnings: string[]
}

export interface StatusResult {
  cluster: ClusterState
  nodes: StatusNode[]
  /** POD arguments that no node has (neither a file nor containers nor a mirror pod). */
  unmatched: string[]
}

/** Exit status: 1 when a node (or the API server) failed, 3 when a pod is not running or a POD named is nowhere, else 0. */
export function statusExitCode(result: StatusResult): 0 | 1 | 3 {
  if (result.nodes.some(node => node.status === 'failed' || node.status === 'unreachable')) return 1
  if (result.cluster.state === 'error') return 1
  if (result.unmatched.length > 0) return 3
  return result.nodes.some(node => node.rows.some(row => !HEALTHY_VERDICTS.has(row.verdict))) ? 3 : 0
}

interface Gathered {
  apiError?: string
  containers?: RuntimeContainer[]
  containersError?: string
  manifests: NodeManifests
  mirrors?: MirrorPod[]
  mirrorsError?: string
  runtime?: RuntimeName
}

export async function podStatus(options: StatusOptions): Promise<StatusResult> {
  const selectors = (options.pods ?? []).map(arg => parsePodArg(arg))
  const {inventory, targets} = await resolveNodes(options)
  const access = loadClusterAccess({
    context: options.context, env: options.env ?? process.env, home: options.home ?? os.homedir(), kubeconfig: options.kubeconfig ?? inventory?.kubeconfig,
  })
  const client = access ? new ApiClient(access) : undefined
  const apiTimeoutMs = Math.min(options.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS, options.timeoutMs ?? Number.POSITIVE_INFINITY)
  const schema = await loadSchema()
  const facts = new FactCache(client, apiTimeoutMs)
  let apiError: string | undefined
  const outcomes = await runOnNodes(targets, async (node, target) => {
    const manifestsThenMirrors = readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema, timeoutMs: options.timeoutMs})
    .then(async manifests => {
      const mirrors = await mirrorsOf(client, manifests.nodeName, apiTimeoutMs)
      apiError ??= mirrors.apiError
      return {manifests, ...mirrors}
    })
    const runtime = listContainers(node, {timeoutMs: options.timeoutMs}).then(
      listed => ({containers: listed.containers, runtime: listed.runtime}),
      (error: unknown) => {
        // No runtime CLI, one that fails or prints something else: the node's files and mirror pods are still worth showing.
        if (error instanceof UserError || error instanceof RemoteCommandError || error instanceof RuntimeOutputError) return {containersError: error.message}
        throw error
      },
    )
    const [withMirrors, containers] = await Promise.all([manifestsThenMirrors, runtime])
    const gathered: Gathered = {...withMirrors, ...containers}
    return statusNode(node.name, gathered, {
      api: access ? 'ok' : 'none', facts, readKubeletLog: async logOptions => readKubeletLog(node, {...logOptions, timeoutMs: options.timeoutMs}), selectors,
    })
  }, {
    connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
  })

  const nodes = outcomes.map((outcome): StatusNode => ({
    durationMs: outcome.durationMs,
    error: outcome.error,
    hints: outcome.hints,
    node: outcome.node,
    nodeName: outcome.result?.nodeName,
    rows: outcome.result?.rows ?? [],
    runtime: outcome.result?.runtime,
    status: outcome.status,
    warnings: [...outcome.warnings, ...outcome.result?.warnings ?? []],
  }))
  const cluster: ClusterState = access
    ? {context: access.context, server: access.server, ...(apiError ? {error: apiError, state: 'error' as const} : {state: 'ok' as const})}
    : {state: 'none'}
  const rows = nodes.flatMap(node => node.rows.map(row => ({file: row.file?.file, name: row.name, namespace: row.namespace})))
  const unmatched = selectors.filter(selector => !rows.some(row => matches([selector], row))).map(selector => selector.arg)
  return {cluster, nodes, unmatched}
}

/** The node's mirror pods; an API server that fails is the run's apiError, a node name unknown is the node's own problem. */
async function mirrorsOf(client: ApiClient | undefined, nodeName: string | undefined, timeoutMs: number): Promise<{apiError?: string; mirrors?: MirrorPod[]; mirrorsError?: string}> {
  if (!client) return {}
  if (!nodeName) return {mirrorsError: 'the kubelet\'s node name is unknown (no hostname)'}
  try {
    return {mirrors: await listMirrorPods(client, nodeName, {timeoutMs})}
  } catch (error) {
    if (error instanceof ApiError) return {apiError: error.message}
    throw error
  }
}

/** Namespaces and nodes asked about once per run, whichever node needs them first. */
class FactCache {
  private readonly answers = new Map<string, Promise<boolean | undefined>>()

  constructor(private readonly client: ApiClient | undefined, private readonly timeoutMs: number) {}

  async facts(nodeName: string | undefined, namespace: string): Promise<MirrorFacts> {
    const [nodeOk, nsOk] = await Promise.all([
      nodeName ? this.ask(`node:${nodeName}`, client => nodeRegistered(client, nodeName, {timeoutMs: this.timeoutMs})) : undefined,
      this.ask(`ns:${namespace}`, client => namespaceExists(client, namespace, {timeoutMs: this.timeoutMs})),
    ])
    return {namespaceExists: nsOk, nodeName, nodeRegistered: nodeOk}
  }

  private async ask(key: string, question: (client: ApiClient) => Promise<boolean>): Promise<boolean | undefined> {
    const {client} = this
    if (!client) return
    let answer = this.answers.get(key)
    if (!answer) {
      answer = unknownOnError(question(client))
      this.answers.set(key, answer)
    }

    return answer
  }
}

/** An answer the API server could not give is unknown, not a failure: it only sharpens a reason. */
async function unknownOnError(answer: Promise<boolean>): Promise<boolean | undefined> {
  try {
    return await answer
  } catch {}
}

/** The part of a file the verdict reads: container names, and why the kubelet refuses it. */
export function verdictFile(file: ManifestFile): VerdictFile {
  // A stray file (a backup, a second file of the same pod) is loaded all the same: only what it says can make the kubelet refuse it.
  const parsed = file.status === 'other' || file.status === 'error' ? 'error' : undefined
  const status = parsed ?? (contentErrors(file).length > 0 ? 'invalid' : 'valid')
  const reason = status === 'valid' ? undefined : fileWarnings(file, false).find(w => w.startsWith('cannot be parsed') || w.startsWith('the kubelet would refuse'))
  const out: VerdictFile = {status, ...(reason ? {reason} : {})}
  if (status === 'error' || !file.content) return out
  const spec = asObject(asObject(parseManifest(file.content.toString('utf8')).documents[0]?.value)?.spec)
  const names = (list: string) => asArray(spec?.[list]).map(c => asString(asObject(c)?.name)).filter((n): n is string => n !== undefined)
  return {...out, containers: names('containers'), initContainers: names('initContainers')}
}

/** Did the kubelet's last word on the pod take it (SyncLoop ADD/UPDATE) rather than drop it (REMOVE/DELETE)? */
export function kubeletHasPod(lines: readonly KubeletLine[]): boolean {
  const last = lines.findLast(line => /^SyncLoop (?:ADD|UPDATE|REMOVE|DELETE)$/.test(line.message))
  return last !== undefined && /ADD|UPDATE/.test(last.message)
}

/** Is this pod uid a static pod's? The kubelet's config hash is 32 hex digits; API pods have UUIDs. */
export function isStaticPodUid(uid: string, mirrors: readonly MirrorPod[]): boolean {
  return /^[\da-f]{32}$/.test(uid) || mirrors.some(m => m.configMirror === uid)
}

/** Does a row match the POD arguments (all rows when there are none)? */
export function matches(selectors: readonly PodSelector[], row: {file?: string; name: string; namespace: string}): boolean {
  if (selectors.length === 0) return true
  return selectors.some(s => {
    if (s.kind === 'pod') return s.name === row.name && s.namespace === row.namespace
    if (s.kind === 'file') return s.file === row.file
    return s.name === row.name || s.name === row.file
  })
}

interface NodeContext {
  api: 'none' | 'ok'
  facts: FactCache
  /** The node's kubelet log (src/ops/kubelet-log.ts). */
  readKubeletLog: (options: KubeletLogOptions) => Promise<KubeletLog>
  selectors: readonly PodSelector[]
}

interface NodeRows {
  nodeName?: string
  rows: StatusRow[]
  runtime?: RuntimeName
  warnings: string[]
}

/** A pod a node's row is about: one defined by a file of the manifest directory, or an orphan. */
interface NodePod {
  file?: ManifestFile
  name: string
  namespace: string
}

export interface NodePodsInput {
  containers?: readonly RuntimeContainer[]
  files: readonly ManifestFile[]
  mirrors: readonly MirrorPod[]
  nodeName: string
  selectors: readonly PodSelector[]
}

/**
 * The pods of a node (pure): one per file of the manifest directory, in its order, then the
 * orphans: static pod containers that are there now and mirror pods that no file accounts for.
 */
export function nodePods(input: NodePodsInput): NodePod[] {
  const {mirrors, nodeName, selectors} = input
  const pods: NodePod[] = input.files.filter(file => file.kind === 'file')
  .map(file => ({file, name: file.pod?.name ?? file.name, namespace: file.pod?.namespace ?? 'default'}))
  const claimed = new Set(pods.map(pod => `${pod.namespace}/${mirrorPodName(pod.name, nodeName)}`))
  const suffix = `-${nodeName}`
  const orphans = new Map<string, NodePod>()
  const live = input.containers?.filter(c => c.state !== 'exited' && isStaticPodUid(c.podUid, mirrors)) ?? []
  for (const {name, namespace} of [...live.map(c => ({name: c.podName, namespace: c.podNamespace})), ...mirrors]) {
    const key = `${namespace}/${name}`
    if (!claimed.has(key) && name.endsWith(suffix)) orphans.set(key, {name: name.slice(0, -suffix.length), namespace})
  }

  return [...pods, ...orphans.values()].filter(pod => matches(selectors, {file: pod.file?.name, name: pod.name, namespace: pod.namespace}))
}

/** One node's rows: a row per file of the manifest directory, then the orphans. */
async function statusNode(node: string, gathered: Gathered, context: NodeContext): Promise<NodeRows> {
  const {manifests} = gathered
  const nodeName = manifests.nodeName ?? node.toLowerCase()
  const mirrors = gathered.mirrors ?? []
  const {containers} = gathered
  const lookup: StatusRow['mirrorLookup'] = context.api === 'none' ? 'no-kubeconfig' : (gathered.mirrors ? 'ok' : 'failed')
  const api = ({failed: 'error', 'no-kubeconfig': 'none', ok: 'ok'} as const)[lookup]
  const pods = nodePods({
    containers, files: manifests.files, mirrors, nodeName, selectors: context.selectors,
  })
  // The kubelet's log, read once and only when a valid file was not loaded: why (kubelet-facts §1.4).
  let log: Promise<string[]> | undefined
  const kubeletSays = async (path: string, pod: string, namespace: string): Promise<Pick<VerdictInput, 'kubeletLoaded' | 'kubeletReason'>> => {
    log ??= context.readKubeletLog({grep: [manifests.dir.path, ...pods.map(p => mirrorPodName(p.name, nodeName))], tail: 1000})
    .then(read => read.lines, () => [])
    const lines = kubeletLinesAbout(await log, {file: path, namespace, pod})
    return {kubeletLoaded: kubeletHasPod(lines), kubeletReason: kubeletReason(lines, path)}
  }

  const row = async ({file, name, namespace}: NodePod): Promise<StatusRow> => {
    const mirrorName = mirrorPodName(name, nodeName)
    const mine = containers?.filter(c => c.podName === mirrorName && c.podNamespace === namespace)
    const mirror = mirrors.find(m => m.name === mirrorName && m.namespace === namespace)
    const input = {
      api, containers: mine, file: file ? verdictFile(file) : undefined, mirror, namespace,
    }
    let result = podVerdict(input)
    if (result.verdict === 'mirror-missing') result = podVerdict({...input, mirrorFacts: await context.facts.facts(nodeName, namespace)})
    else if (result.verdict === 'file-only' && file && input.file?.status === 'valid') {
      result = podVerdict({...input, ...await kubeletSays(file.path, mirrorName, namespace)})
    }

    return {
      containers: mine === undefined ? null : result.current.map(c => statusContainer(c, mirror)),
      file: file ? statusFile(file, manifests.now) : null,
      mirror: mirror ?? null,
      ...(lookup === 'failed' ? {mirrorError: gathered.apiError ?? gathered.mirrorsError ?? 'not looked up'} : {}),
      mirrorLookup: lookup,
      mirrorName,
      name,
      namespace,
      node,
      ...(result.reason ? {reason: result.reason} : {}),
      verdict: result.verdict,
    }
  }

  const warnings = [
    ...(gathered.containersError ? [`containers: ${gathered.containersError}`] : []),
    ...(gathered.mirrorsError ? [`mirror pods: ${gathered.mirrorsError}`] : []),
  ]
  return {
    nodeName: manifests.nodeName, rows: await Promise.all(pods.map(pod => row(pod))), runtime: gathered.runtime, warnings,
  }
}

function statusFile(file: ManifestFile, now: number): StatusFile {
  return {
    ageSeconds: file.mtime === undefined ? undefined : Math.max(0, now - file.mtime),
    file: file.name,
    modified: file.mtime === undefined ? undefined : new Date(file.mtime * 1000).toISOString(),
    path: file.path,
    sha256: file.sha256,
    status: file.status === 'other' ? 'error' : file.status,
  }
}

function statusContainer(c: RuntimeContainer, mirror: MirrorPod | undefined): StatusContainer {
  const started = mirror?.containers.find(m => m.name === c.name)?.startedAt
  return {
    created: c.createdAt, id: c.id, image: c.image, name: c.name, podUid: c.podUid, restarts: c.restarts, state: c.state, ...(started && c.state === 'running' ? {started} : {}),
  }
}
