/**
 * `staticpod rm NODES POD...`: remove static pods, by pod name (as `ls` shows it, or
 * NAMESPACE/NAME) or by file name, from every node: every file of the manifest directory that
 * defines the pod, and its disabled copy if it has one, each backed up first. A pod a node does not
 * have is reported for that node as absent, which is not a failure.
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

export interface RmOptions extends ManifestChangeOptions {
  /** POD arguments. */
  pods: string[]
}

export interface RmPodResult {
  /** removed (with --dry-run: would be removed), or absent from this node. */
  action: 'absent' | 'removed'
  /** The POD argument. */
  arg: string
  backups: string[]
  /** Files removed: from the manifest directory, then disabled copies. */
  files: Array<{disabled: boolean; path: string; pod?: string; sha256?: string}>
}

export interface RmNodeResult {
  durationMs: number
  error?: string
  hints?: string[]
  manifestDir?: string
  node: string
  pods: RmPodResult[]
  status: NodeStatus
  warnings: string[]
}

export interface RmResult {
  dryRun: boolean
  nodes: RmNodeResult[]
}

/** Check the POD arguments (UserError exit 2 for a bad one), then remove on every node. */
export async function removePods(options: RmOptions): Promise<RmResult> {
  const selectors = options.pods.map(pod => parsePodArg(pod))
  const {targets} = await resolveNodes(options)
  const schema = await loadSchema()
  const outcomes = await runOnNodes(
    targets,
    async (node, target) => {
      const read = async () => readNodeManifests(node, {inventoryManifestDir: target.manifestDir, schema})
      const done = await planAndApply(node, await read(), read, state => planRm(state, selectors), options)
      const pods = done.plan.pods.map((pod): RmPodResult => ({
        action: pod.files.length === 0 ? 'absent' : 'removed',
        arg: pod.selector.arg,
        backups: pod.stepIndexes.flatMap(index => (done.backups.has(index) ? [done.backups.get(index)!] : [])),
        files: pod.files.map(f => ({
          disabled: f.disabled, path: f.file.path, pod: f.file.pod ? podKey(f.file.pod) : undefined, sha256: f.file.sha256,
        })),
      }))
      return {
        manifestDir: done.state.dir.path,
        pods,
        status: done.plan.steps.length > 0 ? 'changed' as const : 'unchanged' as const,
        warnings: done.state.dir.warnings,
      }
    },
    {
      connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel, timeoutMs: options.timeoutMs,
    },
  )
  return {
    dryRun: options.dryRun,
    nodes: outcomes.map(outcome => ({
      durationMs: outcome.durationMs,
      error: outcome.error,
      hints: outcome.hints,
      manifestDir: outcome.result?.manifestDir,
      node: outcome.node,
      pods: outcome.result?.pods ?? [],
      status: outcome.status,
      warnings: [...outcome.warnings, ...outcome.result?.warnings ?? []],
    })),
  }
}

export interface RmPlan {
  pods: Array<{files: Array<{disabled: boolean; file: ManifestFile}>; selector: PodSelector; stepIndexes: number[]}>
  steps: ApplyStep[]
}

/** What to remove for each selector: the files of the manifest directory that match, then the disabled copies. */
export function planRm(state: NodeManifests, selectors: readonly PodSelector[]): RmPlan {
  const steps: ApplyStep[] = []
  const seen = new Map<string, number>()
  const pods = selectors.map(selector => {
    const inDir = selectFiles(state.files, selector)
    const parked = selectFiles(state.disabled, selector)
    const error = inDir.error ?? parked.error
    if (error) throw new RefusedError(error)
    const files = [...inDir.files.map(file => ({disabled: false, file})), ...parked.files.map(file => ({disabled: true, file}))]
    const stepIndexes: number[] = []
    for (const {disabled, file} of files) {
      if (file.kind === 'dir') throw new RefusedError(`${file.path} is a directory: staticpod removes manifests only`)
      assertPlainName(file)
      const key = `${disabled ? 'p' : 'd'}:${file.name}`
      if (!seen.has(key)) {
        seen.set(key, steps.length)
        steps.push({name: file.name, op: disabled ? 'rmp' : 'rm'})
      }

      stepIndexes.push(seen.get(key)!)
    }

    return {files, selector, stepIndexes}
  })
  return {pods, steps}
}
