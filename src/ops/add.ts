/**
 * `staticpod add NODES MANIFEST...`: validate the manifests (an invalid one stops everything
 * before any node is touched), then install each in the manifest directory of every node:
 * atomically (dot-prefixed temp file in the directory, fsync, rename), mode 0600, backing up what
 * it replaces, and never leaving two files for one pod. A file keeps its base name unless the node
 * already has a file that defines the same pod, which is then replaced in place.
 *
 * With a wait (--wait), each node then waits until the kubelet runs what was written
 * (src/ops/pod-wait.ts: the mirror pod's config hash changes and its containers run, or the same seen
 * through crictl/docker); nodes may go one at a time, stopping at the first failure (--rolling), and
 * a node that fails its wait may get its previous files back (--rollback-on-failure).
 */
import {readFileSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {PodSchema} from '../manifest/check.js'
import type {DocumentResult, ValidateResult} from '../manifest/types.js'
import type {FanOutEvent} from '../transport/fan-out.js'
import type {NodeExec} from '../transport/node.js'
import type {NodeTarget} from '../transport/target.js'

import {ApiClient} from '../cluster/client.js'
import {loadClusterAccess} from '../cluster/kubeconfig.js'
import {UserError} from '../errors.js'
import {checkFile} from '../manifest/check.js'
import {resolveNodes} from '../nodes/resolve.js'
import {formatMs} from '../transport/duration.js'
import {type ConnectedNode, runOnNodes} from '../transport/run-on-nodes.js'
import {
  applySteps, assertDirectory, assertPlainName, type ManifestChangeOptions, planAndApply, RefusedError, simulate, withFreshState,
} from './apply.js'
import {failedAsReported, runInWaves, type SequencedStatus} from './kubelet-restart.js'
import {
  type ManifestFile, type NodeManifests, podKey, type PodRef, readNodeManifests,
} from './manifest-dir.js'
import {type ApplyStep, sha256} from './node-scripts.js'
import {manifestFileNameProblem} from './pod-ref.js'
import {
  hashesBefore, type NodeWait, podWatcher, waitForPods, waitTarget,
} from './pod-wait.js'
import {loadSchema, validate} from './validate.js'

export interface AddOptions extends ManifestChangeOptions {
  /** --context: the kubeconfig context for the wait. */
  context?: string
  /** --kubeconfig, else the inventory's kubeconfig, KUBECONFIG, ~/.kube/config: for the wait. */
  kubeconfig?: string
  /** Files, or '-' for standard input. */
  manifests: string[]
  readStdin(): Promise<Buffer>
  /** A node whose wait fails gets its previous files back (needs waitMs). */
  rollbackOnFailure?: boolean
  /** One node at a time; the nodes after a failed one are skipped. */
  rolling?: boolean
  /** Wait this long on each node for the kubelet to run what was written; undefined: do not wait. */
  waitMs?: number
}

/** A manifest as read and validated locally. */
export interface LocalManifest {
  content: Buffer
  /** The validation result of its (only) document. */
  document: DocumentResult
  /** As the user gave it ('-' for standard input). */
  file: string
  /** The base name it gets on the nodes. */
  name: string
  pod: PodRef
  sha256: string
}

/** A file before and after, for --dry-run diffs; undefined: absent. */
export interface FileDiff {
  after?: string
  before?: string
  path: string
}

export interface AddFileResult {
  /** What happened (with --dry-run: what would happen). */
  action: 'created' | 'replaced' | 'unchanged'
  /** Backups made on the node. */
  backups: string[]
  /** --dry-run only. */
  diffs?: FileDiff[]
  file: string
  /** Where it is on the node. */
  path: string
  pod: string
  previousSha256?: string
  /** Other files that defined the same pod, removed. */
  removed: string[]
  /** Disabled (parked) copies of the pod, retired into the backups. */
  retired: string[]
  sha256: string
}

/** What --rollback-on-failure did on a node whose wait failed. */
export interface AddRollback {
  /** Backups of the failed files, made as they were replaced. */
  backups: string[]
  /** The rollback itself failed. */
  error?: string
  /** Files that did not exist before: removed. */
  removed: string[]
  /** Files put back as they were before the write. */
  restored: string[]
}

export interface AddNodeResult {
  durationMs: number
  error?: string
  files: AddFileResult[]
  hints?: string[]
  manifestDir?: string
  /** How the manifest directory was found: inventory, kubelet, k3s, rke2, default. */
  manifestDirSource?: string
  node: string
  rollback?: AddRollback
  /** 'skipped': --rolling stopped at an earlier node's failure; this one was not touched. */
  status: SequencedStatus
  /** --wait: how, how long, and what was seen last, per pod. */
  wait?: NodeWait
  warnings: string[]
}

export type AddResult = {dryRun: boolean; manifests: LocalManifest[]; nodes: AddNodeResult[]; validation: ValidateResult} | {invalid: ValidateResult}

/** Validate, then install on every node. Never throws for a node's failure; usage errors are UserErrors. */
export async function addManifests(options: AddOptions): Promise<AddResult> {
  const {inventory, targets} = await resolveNodes(options)
  const loaded = await loadManifests(options.manifests, options.readStdin)
  if ('invalid' in loaded) return loaded
  const {manifests, validation} = loaded
  const schema = await loadSchema()
  const waitMs = options.dryRun ? undefined : options.waitMs
  const client = waitMs === undefined ? undefined : apiClient(options, inventory?.kubeconfig)
  const job = async (node: ConnectedNode, target: NodeTarget): Promise<NodeJobResult> => {
    const warnings: string[] = []
    const read = async () => readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema})
    let state = await read()
    warnings.push(...state.dir.warnings)
    assertDirectory(state)
    const {nodeName} = state
    const watch = waitMs === undefined ? undefined : await startWatch(node, nodeName, manifests, client)
    const files: AddFileResult[] = []
    const previous = new Map<LocalManifest, ManifestFile | undefined>()
    for (const manifest of manifests) {
      checkMirrorName(manifest, state, schema)
      if (options.dryRun) {
        const plan = planAdd(state, manifest)
        files.push(fileResult(manifest, plan, new Map(), true))
        warnings.push(...plan.warnings)
        state = simulate(state, plan.steps, name => installedFile(state, manifest, name))
        continue
      }

      // eslint-disable-next-line no-await-in-loop -- one manifest after the other, each from the state the previous one left
      const done = await planAndApply(node, state, read, current => planAdd(current, manifest), {backup: options.backup})
      state = done.state
      previous.set(manifest, done.plan.previous)
      files.push(fileResult(manifest, done.plan, done.backups, false))
      warnings.push(...done.plan.warnings)
      state = simulate(state, done.plan.steps, name => installedFile(state, manifest, name))
    }

    const changed = files.some(file => file.action !== 'unchanged')
    const base = {
      files, manifestDir: state.dir.path, manifestDirSource: state.dir.source, status: changed ? 'changed' as const : 'unchanged' as const, warnings,
    }
    if (!watch) return base
    const wait = await waitForPods(watch.watcher, manifests.map((m, i) => waitTarget(m.pod, m.content, previous.get(m)?.content, files[i]!.action !== 'unchanged')), watch.before, {
      nodeName: watch.nodeName, timeoutMs: waitMs!,
    })
    const failed = wait.pods.some(p => !p.ok)
    const rollback = failed && options.rollbackOnFailure
      ? await rollBack(node, read, manifests.map((m, i) => ({file: files[i]!, previous: previous.get(m)})))
      : undefined
    return {
      ...base, failed, rollback, wait,
    }
  }

  const {onEvent} = options
  const fanOptions = {
    connectTimeoutMs: options.connectTimeoutMs,
    onEvent: onEvent && ((event: FanOutEvent<NodeJobResult>) => onEvent(event.type === 'done' ? failedAsReported(event) : event)),
    parallel: options.rolling ? 1 : options.parallel,
    // Waiting: --timeout is the wait; connecting, writing and a rollback get WAIT_ALLOWANCE_MS more.
    timeoutMs: waitMs === undefined ? options.timeoutMs : waitMs + WAIT_ALLOWANCE_MS,
  }
  const outcomes = options.rolling ? await runInWaves(targets, job, fanOptions) : await runOnNodes(targets, job, fanOptions)
  const nodes = outcomes.map((outcome): AddNodeResult => {
    const r = outcome.result
    const waitError = r?.failed ? waitFailure(outcome.node, r.wait!, waitMs!, r.rollback) : undefined
    return {
      durationMs: outcome.durationMs,
      error: outcome.error ?? waitError?.error,
      files: r?.files ?? [],
      hints: outcome.hints ?? waitError?.hints,
      manifestDir: r?.manifestDir,
      manifestDirSource: r?.manifestDirSource,
      node: outcome.node,
      ...(r?.rollback ? {rollback: r.rollback} : {}),
      status: r?.failed ? 'failed' : outcome.status,
      ...(r?.wait ? {wait: r.wait} : {}),
      warnings: [...outcome.warnings, ...r?.warnings ?? []],
    }
  })
  return {
    dryRun: options.dryRun, manifests, nodes, validation,
  }
}

/** What a node's job hands back. */
interface NodeJobResult {
  failed?: boolean
  files: AddFileResult[]
  manifestDir: string
  manifestDirSource: string
  rollback?: AddRollback
  status: 'changed' | 'unchanged'
  wait?: NodeWait
  warnings: string[]
}

/** With --wait, the per-node time limit is the wait plus this, for connecting, writing and a rollback. */
export const WAIT_ALLOWANCE_MS = 120_000

/** The API client for the wait; undefined when there is no kubeconfig at all (the wait asks the nodes' runtimes). */
function apiClient(options: AddOptions, inventoryKubeconfig: string | undefined): ApiClient | undefined {
  const access = loadClusterAccess({
    context: options.context, env: options.env ?? process.env, home: options.home ?? os.homedir(), kubeconfig: options.kubeconfig ?? inventoryKubeconfig,
  })
  return access && new ApiClient(access)
}

/** Before writing: how this node's pods will be watched, and their config hashes now. */
async function startWatch(node: NodeExec, nodeName: string | undefined, manifests: readonly LocalManifest[], client: ApiClient | undefined) {
  if (!nodeName) throw new RefusedError('cannot tell the name the kubelet registers this node under (no host name), so not which mirror pod to wait for')
  const watcher = await podWatcher(node, {client, nodeName})
  const before = await hashesBefore(watcher, manifests.map(m => waitTarget(m.pod, m.content, undefined, true)))
  return {before, nodeName, watcher}
}

/** The error and hints of a node whose wait failed. */
function waitFailure(node: string, wait: NodeWait, waitMs: number, rollback: AddRollback | undefined): {error: string; hints: string[]} {
  const failed = wait.pods.filter(p => !p.ok)
  const via = wait.method === 'api' ? 'the API server' : wait.method
  const what = failed.map(p => `${p.mirror}: ${p.state}`).join('; ')
  const undoneFiles = rollback ? [...rollback.restored.map(f => `restored ${f}`), ...rollback.removed.map(f => `removed ${f}`)].join(', ') : ''
  const undone = rollback
    ? (rollback.error ? `; the rollback failed: ${rollback.error}` : `; rolled back (${undoneFiles || 'nothing to undo'})`)
    : ''
  return {
    error: `the kubelet did not run the new pod within ${formatMs(waitMs)} (asked ${via}): ${what}${undone}`,
    hints: [
      `See why: staticpod status ${node} ${failed.map(p => p.pod.replace(/^default\//, '')).join(' ')}, and the kubelet's journal on the node (journalctl -u kubelet).`,
      ...(rollback ? [] : ['--rollback-on-failure puts the previous file back when the wait fails.']),
    ],
  }
}

/**
 * Put back what the write replaced, through the same apply script (atomic, under the lock, checked
 * against a fresh read): the previous content (what the backup holds, read before the write), or
 * remove a file that did not exist. The failed file is backed up as it goes.
 */
async function rollBack(node: NodeExec, read: () => Promise<NodeManifests>, written: ReadonlyArray<{file: AddFileResult; previous?: ManifestFile}>): Promise<AddRollback> {
  const out: AddRollback = {
    backups: [], removed: [], restored: [],
  }
  try {
    for (const {file, previous} of written) {
      if (file.action === 'unchanged') continue
      if (previous && !previous.content) throw new Error(`${previous.path}: its previous content was not read (too large); restore it from ${file.backups.join(', ') || 'a backup'}`)
      const name = path.posix.basename(file.path)
      const step: ApplyStep = previous?.content ? {content: previous.content, name, op: 'put'} : {name, op: 'rm'}
      // eslint-disable-next-line no-await-in-loop -- one file after the other, each from a fresh read
      const backups = await withFreshState(await read(), read, async current => applySteps(node, current, [step], {backup: true}))
      out.backups.push(...backups.values())
      if (previous) out.restored.push(file.path)
      else out.removed.push(file.path)
    }
  } catch (error) {
    out.error = (error as Error).message
  }

  return out
}

/**
 * Read and validate the manifests. Usage problems (no such file, a directory, a name the node
 * cannot have, the same pod or name twice) are UserErrors; invalid manifests come back as
 * `{invalid}` for the caller to show.
 */
export async function loadManifests(paths: string[], readStdin: () => Promise<Buffer>): Promise<{invalid: ValidateResult} | {manifests: LocalManifest[]; validation: ValidateResult}> {
  let stdin: Promise<Buffer> | undefined
  const input = async (): Promise<Buffer> => {
    stdin ??= readStdin()
    return stdin
  }

  if (paths.filter(p => p === '-').length > 1) throw new UserError('"-" (standard input) can be given once')
  for (const file of paths) {
    if (file === '-') continue
    const info = statSync(file, {throwIfNoEntry: false})
    if (!info) throw new UserError(`${file}: no such file`)
    if (info.isDirectory()) throw new UserError(`${file} is a directory: name the manifest files (e.g. ${path.join(file, '*.yaml')})`)
    const problem = manifestFileNameProblem(path.basename(file))
    if (problem) {
      throw new UserError(`cannot install ${file}: its name ${problem}`, {
        hints: ['The file keeps its base name on the nodes (unless a file there defines the same pod); rename it, e.g. to <pod>.yaml.'],
      })
    }
  }

  const validation = await validate({ignore: [], paths, readStdin: input})
  if (validation.summary.invalid > 0 || validation.summary.errors > 0) return {invalid: validation}
  const manifests: LocalManifest[] = []
  for (const file of paths) {
    const documents = validation.results.filter(result => result.file === file)
    const extra = documents.filter(doc => doc.document > 0 && doc.findings.some(f => f.rule === 'static-pod/multiple-documents'))
    if (extra.length > 0) {
      throw new UserError(`${displayName(file)} holds ${extra.length + 1} documents: the kubelet would run only the first`, {
        exitCode: 1, hints: ['Put each pod in a file of its own.'],
      })
    }

    const [document] = documents
    if (!document?.name || document.kind !== 'Pod') throw new UserError(`${displayName(file)} does not define a Pod`, {exitCode: 1})
    // eslint-disable-next-line no-await-in-loop -- standard input is read once, and only if named
    const content = file === '-' ? await input() : readBytes(file)
    const pod = {name: document.name, namespace: document.namespace ?? 'default'}
    manifests.push({
      content, document, file, name: file === '-' ? `${pod.name}.yaml` : path.basename(file), pod, sha256: sha256(content),
    })
  }

  for (const [index, manifest] of manifests.entries()) {
    const other = manifests.slice(0, index).find(m => podKey(m.pod) === podKey(manifest.pod) || m.name === manifest.name)
    if (other) {
      const what = podKey(other.pod) === podKey(manifest.pod) ? `both define pod ${podKey(manifest.pod)}` : `both would be ${manifest.name} on the nodes`
      throw new UserError(`${displayName(other.file)} and ${displayName(manifest.file)} ${what}`)
    }
  }

  return {manifests, validation}
}

function displayName(file: string): string {
  return file === '-' ? '(standard input)' : file
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    throw new UserError(`${file}: ${(error as Error).message}`, {exitCode: 1})
  }
}

/** The mirror pod name (<pod>-<node>) must be valid with this node's name: checked per node. */
function checkMirrorName(manifest: LocalManifest, state: NodeManifests, schema: PodSchema): void {
  if (!state.nodeName) return
  const [doc] = checkFile(manifest.file, manifest.content, {nodeName: state.nodeName, schema})
  const finding = doc?.result.findings.find(f => f.rule === 'static-pod/mirror-name-length' && f.severity === 'error')
  if (finding) throw new RefusedError(`${displayName(manifest.file)}: ${finding.message} (node name ${state.nodeName})`)
}

export interface AddPlan {
  action: 'create' | 'replace' | 'unchanged'
  /** Other files of the manifest directory that define the same pod: removed. */
  duplicates: ManifestFile[]
  /** Disabled copies of the pod: retired (backed up, then removed from the disabled directory). */
  parked: ManifestFile[]
  /** Full path of the target on the node. */
  path: string
  /** The file replaced, if any. */
  previous?: ManifestFile
  steps: ApplyStep[]
  /** The file name written in the manifest directory. */
  target: string
  warnings: string[]
}

/**
 * Which file to write, what to remove. The pod's existing file is replaced in place (the file the
 * kubelet runs it from: the manifest's own name if it is one of them, else the last in the
 * kubelet's order); other files defining it are removed first, so that the last event the kubelet
 * sees is the new file; a file of another pod with the manifest's name is never overwritten.
 */
export function planAdd(state: NodeManifests, manifest: LocalManifest): AddPlan {
  const key = podKey(manifest.pod)
  const same = state.files.filter(f => f.pod && podKey(f.pod) === key)
  let target = manifest.name
  if (same.length > 0) target = same.some(f => f.name === manifest.name) ? manifest.name : same.at(-1)!.name
  const previous = state.files.find(f => f.name === target)
  if (previous && previous.kind !== 'file') {
    throw new RefusedError(`${previous.path} is ${previous.kind === 'dir' ? 'a directory' : 'not a regular file'}: not replacing it`)
  }

  if (previous?.pod && podKey(previous.pod) !== key) {
    throw new RefusedError(`${previous.path} defines pod ${podKey(previous.pod)}, not ${key}: not overwriting another pod's manifest`, [
      `Remove it first (staticpod rm NODE ${previous.pod.namespace === 'default' ? previous.pod.name : podKey(previous.pod)}), or give your manifest another file name.`,
    ])
  }

  const duplicates = same.filter(f => f.name !== target)
  const parked = state.disabled.filter(f => f.pod && podKey(f.pod) === key)
  for (const file of [...duplicates, ...parked]) assertPlainName(file)
  const warnings: string[] = []
  if (target !== manifest.name) warnings.push(`${manifest.name}: pod ${key} is already defined in ${target}; replacing that file (keeping its name)`)
  if (duplicates.length > 0) warnings.push(`pod ${key} was also defined in ${duplicates.map(f => f.name).join(', ')}: removing ${duplicates.length === 1 ? 'it' : 'them'}`)
  if (parked.length > 0) warnings.push(`pod ${key} was disabled (${parked.map(f => f.path).join(', ')}): the parked copy is retired`)
  const base = {
    duplicates, parked, path: joinDir(state.dir.path, target), previous, target, warnings,
  }
  if (previous?.sha256 === manifest.sha256 && duplicates.length === 0 && parked.length === 0) {
    return {...base, action: 'unchanged', steps: []}
  }

  const steps: ApplyStep[] = [
    ...duplicates.map(f => ({name: f.name, op: 'rm' as const})),
    {content: manifest.content, name: target, op: 'put'},
    ...parked.map(f => ({name: f.name, op: 'rmp' as const})),
  ]
  return {...base, action: previous ? 'replace' : 'create', steps}
}

function joinDir(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`
}

function installedFile(state: NodeManifests, manifest: LocalManifest, name: string): ManifestFile {
  return {
    content: manifest.content,
    documents: [manifest.document],
    kind: 'file',
    mtime: state.now,
    name,
    path: joinDir(state.dir.path, name),
    pod: manifest.pod,
    raw: Buffer.from(name),
    sha256: manifest.sha256,
    size: manifest.content.length,
    status: 'valid',
  }
}

/** A file's text for a diff. */
function diffText(file: ManifestFile | undefined): string | undefined {
  if (!file) return undefined
  return file.content ? file.content.toString('utf8') : `(${file.size ?? 0} bytes, not shown)\n`
}

function fileResult(manifest: LocalManifest, plan: AddPlan, backups: Map<number, string>, dryRun: boolean): AddFileResult {
  const action = plan.action === 'create' ? 'created' : (plan.action === 'replace' ? 'replaced' : 'unchanged')
  return {
    action,
    backups: [...backups.values()],
    file: manifest.file,
    path: plan.path,
    pod: podKey(manifest.pod),
    previousSha256: plan.previous?.sha256,
    removed: plan.duplicates.map(f => f.path),
    retired: plan.parked.map(f => f.path),
    sha256: manifest.sha256,
    ...(dryRun
      ? {
        diffs: [
          {after: manifest.content.toString('utf8'), before: diffText(plan.previous), path: plan.path},
          ...[...plan.duplicates, ...plan.parked].map(f => ({before: diffText(f), path: f.path})),
        ],
      }
      : {}),
  }
}
