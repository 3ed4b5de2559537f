/**
 * `staticpod disable NODES POD` / `enable NODES POD`: the static pod guide's
 * `mv /etc/kubelet.d/static-web.yaml /tmp` and back, made safe and visible. Disabling parks the
 * manifest in /var/lib/staticpod/disabled/<file> (outside the manifest directory, so the kubelet
 * stops the pod); enabling brings it back under its name. Neither move ever leaves a partial file
 * in either directory (copy to a temp file, fsync, rename, then remove the original), and `ls`
 * shows parked pods as disabled.
 */
import type {NodeStatus} from '../transport/fan-out.js'

import {resolveNodes} from '../nodes/resolve.js'
import {runOnNodes} from '../transport/run-on-nodes.js'
import {
  assertPlainName, type ManifestChangeOptions, planAndApply, RefusedError,
} from './apply.js'
import {
  type ManifestFile, type NodeManifests, podKey, readNodeManifests,
} from './manifest-dir.js'
import {type ApplyStep} from './node-scripts.js'
import {parsePodArg, type PodSelector, selectFiles} from './pod-ref.js'
import {loadSchema} from './validate.js'

export type ToggleAction = 'disable' | 'enable'

export interface ToggleOptions extends ManifestChangeOptions {
  action: ToggleAction
  /** The POD argument. */
  pod: string
}

export interface ToggleMove {
  from: string
  pod?: string
  to: string
}

export interface ToggleNodeResult {
  backups: string[]
  durationMs: number
  error?: string
  hints?: string[]
  manifestDir?: string
  /** Files moved (with --dry-run: to be moved); empty when the pod already was as asked. */
  moves: ToggleMove[]
  node: string
  status: NodeStatus
  warnings: string[]
}

export interface ToggleResult {
  action: ToggleAction
  dryRun: boolean
  nodes: ToggleNodeResult[]
}

export async function togglePod(options: ToggleOptions): Promise<ToggleResult> {
  const selector = parsePodArg(options.pod)
  const {targets} = await resolveNodes(options)
  const schema = await loadSchema()
  const outcomes = await runOnNodes(
    targets,
    async (node, target) => {
      const read = async () => readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema})
      const plan = options.action === 'disable' ? planDisable : planEnable
      const done = await planAndApply(node, await read(), read, state => plan(state, selector), options)
      return {
        backups: [...done.backups.values()],
        manifestDir: done.state.dir.path,
        moves: done.plan.moves,
        status: done.plan.steps.length > 0 ? 'changed' as const : 'unchanged' as const,
        warnings: [...done.state.dir.warnings, ...done.plan.warnings],
      }
    },
    {
      connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
    },
  )
  return {
    action: options.action,
    dryRun: options.dryRun,
    nodes: outcomes.map(outcome => ({
      backups: outcome.result?.backups ?? [],
      durationMs: outcome.durationMs,
      error: outcome.error,
      hints: outcome.hints,
      manifestDir: outcome.result?.manifestDir,
      moves: outcome.result?.moves ?? [],
      node: outcome.node,
      status: outcome.status,
      warnings: [...outcome.warnings, ...outcome.result?.warnings ?? []],
    })),
  }
}

export interface TogglePlan {
  moves: ToggleMove[]
  steps: ApplyStep[]
  warnings: string[]
}

/** Park every file of the manifest directory that defines the pod (or the file so named). */
export function planDisable(state: NodeManifests, selector: PodSelector): TogglePlan {
  const found = selectFiles(state.files, selector)
  if (found.error) throw new RefusedError(found.error)
  if (found.files.length === 0) {
    const parked = selectFiles(state.disabled, selector)
    if (parked.files.length > 0) return {moves: [], steps: [], warnings: [`${selector.arg} is already disabled (${parked.files.map(f => f.path).join(', ')})`]}
    throw notFound(state, selector, 'in')
  }

  const moves: ToggleMove[] = []
  const steps: ApplyStep[] = []
  for (const file of found.files) {
    if (file.kind !== 'file') throw new RefusedError(`${file.path} is not a regular file: staticpod parks manifests only`)
    assertPlainName(file)
    const clash = state.disabled.find(f => f.name === file.name)
    if (clash?.pod && file.pod && podKey(clash.pod) !== podKey(file.pod)) {
      throw new RefusedError(`${clash.path} already holds pod ${podKey(clash.pod)}: cannot park ${file.path} (pod ${podKey(file.pod)}) under the same name`, [
        `Enable or remove that one first (staticpod rm NODE ${clash.name}).`,
      ])
    }

    moves.push({from: file.path, pod: file.pod ? podKey(file.pod) : undefined, to: `${state.disabledDir}/${file.name}`})
    steps.push({name: file.name, op: 'park'})
  }

  return {moves, steps, warnings: []}
}

/** Bring a parked manifest back into the manifest directory under its own name. */
export function planEnable(state: NodeManifests, selector: PodSelector): TogglePlan {
  const found = selectFiles(state.disabled, selector)
  if (found.error) throw new RefusedError(found.error)
  if (found.files.length === 0) {
    const live = selectFiles(state.files, selector)
    if (live.files.length > 0) return {moves: [], steps: [], warnings: [`${selector.arg} is already enabled (${live.files.map(f => f.path).join(', ')})`]}
    throw notFound(state, selector, 'parked in')
  }

  if (found.files.length > 1) {
    throw new RefusedError(`${selector.arg} matches ${found.files.length} parked files (${found.files.map(f => f.name).join(', ')}): name one by its file name`)
  }

  const [file] = found.files as [ManifestFile]
  assertPlainName(file)
  if (file.kind !== 'file') throw new RefusedError(`${file.path} is not a regular file`)
  const live = file.pod ? state.files.filter(f => f.pod && podKey(f.pod) === podKey(file.pod!)) : []
  if (live.length > 0) {
    return {moves: [], steps: [], warnings: [`pod ${podKey(file.pod!)} is already in the manifest directory (${live.map(f => f.name).join(', ')}); its parked copy ${file.path} stays parked`]}
  }

  const taken = state.files.find(f => f.name === file.name)
  if (taken) {
    throw new RefusedError(`${taken.path} already exists${taken.pod ? ` (pod ${podKey(taken.pod)})` : ''}: not overwriting it with the parked ${file.name}`, [
      `Remove it first (staticpod rm NODE ${file.name}) if the parked pod should take its place.`,
    ])
  }

  const to = `${state.dir.path.replace(/\/+$/, '')}/${file.name}`
  return {moves: [{from: file.path, pod: file.pod ? podKey(file.pod) : undefined, to}], steps: [{name: file.name, op: 'unpark'}], warnings: []}
}

function notFound(state: NodeManifests, selector: PodSelector, where: string): RefusedError {
  const dir = where === 'in' ? state.dir.path : state.disabledDir
  const what = selector.kind === 'file' ? `no file ${selector.file}` : `no pod ${selector.kind === 'pod' ? `${selector.namespace}/${selector.name}` : selector.name}`
  return new RefusedError(`${what} ${where} ${dir}`)
}
