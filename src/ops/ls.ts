/**
 * `staticpod ls [NODES]`: the static pods on each node, one probe round trip per node (two when the
 * kubelet's config is somewhere unusual). Every file of the manifest directory is a row (the kubelet
 * loads them all), and so is every parked (disabled) manifest; each row carries the warnings of the
 * same checks `staticpod validate` runs: files the kubelet would load by accident, pods defined
 * twice, files it cannot parse or would refuse.
 */
import type {NodeOptions} from '../flags.js'
import type {Finding} from '../manifest/types.js'
import type {FanOutEvent, NodeStatus} from '../transport/fan-out.js'

import {resolveNodes} from '../nodes/resolve.js'
import {runOnNodes} from '../transport/run-on-nodes.js'
import {
  errorFindings, type ManifestFile, type NodeManifests, podKey, readNodeManifests,
} from './manifest-dir.js'
import {loadSchema} from './validate.js'

export interface LsOptions extends NodeOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  /** NODES; undefined for every known node. */
  spec?: string
}

/** One row: a file of the manifest directory, or a parked manifest. */
export interface LsEntry {
  /** Seconds since it was modified, by the node's clock. */
  ageSeconds?: number
  /** Parked in the disabled directory: the kubelet does not run it. */
  disabled: boolean
  file: string
  /** ISO 8601, UTC. */
  modified?: string
  /** metadata.name; null when the file does not define a pod. */
  name: null | string
  namespace: null | string
  node: string
  /** Full path on the node. */
  path: string
  sha256?: string
  size?: number
  /** valid, invalid (the kubelet would refuse it), error (cannot be parsed). */
  status: 'error' | 'invalid' | 'valid'
  warnings: string[]
}

export interface LsNode {
  durationMs: number
  entries: LsEntry[]
  error?: string
  hints?: string[]
  manifestDir?: string
  /** What the static pod path is on the node. */
  manifestDirKind?: 'absent' | 'dir' | 'file' | 'other'
  manifestDirSource?: string
  node: string
  status: NodeStatus
  /** About the node rather than one file: how the directory was found, subdirectories, unreadable entries. */
  warnings: string[]
}

export interface LsResult {
  nodes: LsNode[]
}

export async function listManifests(options: LsOptions): Promise<LsResult> {
  const {targets} = await resolveNodes(options)
  const schema = await loadSchema()
  const outcomes = await runOnNodes(
    targets,
    async (node, target) => lsNode(node.name, await readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema})),
    {
      connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
    },
  )
  return {
    nodes: outcomes.map(outcome => ({
      durationMs: outcome.durationMs,
      entries: outcome.result?.entries ?? [],
      error: outcome.error,
      hints: outcome.hints,
      manifestDir: outcome.result?.manifestDir,
      manifestDirKind: outcome.result?.manifestDirKind,
      manifestDirSource: outcome.result?.manifestDirSource,
      node: outcome.node,
      status: outcome.status,
      warnings: [...outcome.warnings, ...outcome.result?.warnings ?? []],
    })),
  }
}

/** The rows and warnings of one node (pure). */
export function lsNode(node: string, state: NodeManifests): Omit<LsNode, 'durationMs' | 'error' | 'hints' | 'node' | 'status'> & {entries: LsEntry[]} {
  const warnings = [...state.dir.warnings]
  const entries: LsEntry[] = []
  for (const file of state.files) {
    if (file.kind !== 'file') {
      warnings.push(...file.documents.flatMap(doc => doc.findings).map(f => `${file.path}: ${f.message}`))
      continue
    }

    entries.push(entry(node, state, file, false))
  }

  const live = new Map(state.files.filter(f => f.pod).map(f => [podKey(f.pod!), f]))
  for (const file of state.disabled) {
    if (file.kind !== 'file') continue
    const row = entry(node, state, file, true)
    const pod = file.pod ? podKey(file.pod) : undefined
    const enabled = pod ? live.get(pod) : undefined
    row.warnings.unshift(enabled
      ? `pod ${pod} is disabled (parked copy ${file.path}) but also defined in ${enabled.path}, which the kubelet runs`
      : `disabled: the kubelet does not run it; \`staticpod enable ${node} ${file.pod?.namespace === 'default' ? file.pod.name : pod ?? file.name}\` brings it back`)
    entries.push(row)
  }

  if (!state.dir.path.startsWith('/')) warnings.push(`the static pod path "${state.dir.path}" is relative to the kubelet's working directory: not read`)
  else if (state.dir.kind === 'absent') warnings.push(`${state.dir.path} does not exist: no static pods`)
  else if (state.dir.kind === 'other') warnings.push(`${state.dir.path} is neither a directory nor a file: the kubelet cannot read it`)
  return {
    entries, manifestDir: state.dir.path, manifestDirKind: state.dir.kind, manifestDirSource: state.dir.source, warnings,
  }
}

function entry(node: string, state: NodeManifests, file: ManifestFile, disabled: boolean): LsEntry {
  return {
    ageSeconds: file.mtime === undefined ? undefined : Math.max(0, state.now - file.mtime),
    disabled,
    file: file.name,
    modified: file.mtime === undefined ? undefined : new Date(file.mtime * 1000).toISOString(),
    name: file.pod?.name ?? null,
    namespace: file.pod?.namespace ?? null,
    node,
    path: file.path,
    sha256: file.sha256,
    size: file.size,
    status: file.status === 'other' ? 'error' : file.status,
    warnings: fileWarnings(file, disabled),
  }
}

/** A finding about where the file is (a stray file, a pod defined twice), not about what it says. */
function isPlacementFinding(finding: Finding): boolean {
  return finding.rule === 'dir/stray-file' || finding.rule === 'dir/duplicate-pod'
}

/** The errors in what a file says, which make the kubelet skip or refuse it (a stray file it loads all the same). */
export function contentErrors(file: ManifestFile): Finding[] {
  return errorFindings(file).filter(f => !isPlacementFinding(f))
}

/**
 * What is wrong with a file, in the kubelet's terms: loaded by accident (a backup, a README), the
 * same pod in two files, cannot be parsed, or would be refused (the first error; `staticpod
 * validate` shows them all).
 */
export function fileWarnings(file: ManifestFile, disabled: boolean): string[] {
  const out = errorFindings(file).filter(f => isPlacementFinding(f)).map(f => f.message)
  const content = contentErrors(file)
  const [other] = content
  if (file.status === 'error') out.push(`cannot be parsed${disabled ? '' : ', the kubelet skips it'}: ${other?.message ?? 'unreadable'}`)
  else if (other) {
    const more = content.length - 1
    out.push(`${disabled ? 'invalid' : 'the kubelet would refuse it'}: ${other.message}${more > 0 ? ` (and ${more} more: staticpod validate shows them)` : ''}`)
  }

  return out
}
