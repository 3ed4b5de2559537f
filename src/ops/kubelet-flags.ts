/**
 * `staticpod kubelet flags NODES [--set k=v] [--unset k] [--restart]`: each node's effective
 * kubelet settings and where each comes from (src/kubelet/effective.ts); with --set/--unset, the
 * files that change (planEdit: the KubeletConfiguration when the node has one, else the layout's
 * environment file), their diffs, and — unless a dry run — the files written atomically with a
 * backup. With restart: daemon-reload when a unit changed, restart, wait for healthz; when the
 * kubelet does not come back in time, the previous bytes go back, the kubelet is restarted again,
 * and the node is reported as rolled back (failed), with the kubelet's last journal lines.
 */
import type {NodeOptions} from '../flags.js'
import type {FanOutEvent, NodeStatus} from '../transport/fan-out.js'

import {UserError} from '../errors.js'
import {
  type EditPlan, healthz, type KubeletEdit, type KubeletEffective, planEdit, type PlannedChange,
} from '../kubelet/effective.js'
import {resolveKey} from '../kubelet/flags.js'
import {resolveNodes} from '../nodes/resolve.js'
import {runOnNodes} from '../transport/run-on-nodes.js'
import {
  effectiveAfter, isUnitPath, readKubeletFiles, restoreKubeletFiles, writeKubeletFiles, type WrittenFile,
} from './kubelet-files.js'
import {
  formatSeconds, kubeletJournal, restartAndWait, type RestartOutcome, runInWaves, type SequencedStatus,
} from './kubelet-restart.js'

export interface KubeletFlagsOptions extends Omit<NodeOptions, 'timeoutMs'> {
  cwd?: string
  dryRun: boolean
  env?: NodeJS.ProcessEnv
  home?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  /** Restart after writing, wait for healthz, roll back when it does not come. */
  restart: boolean
  /** --set key=value, in order. */
  set: Array<[string, string]>
  spec: string
  unset: string[]
  /** How long to wait for healthz after a restart. */
  waitMs: number
}

/** One file's content before and after (undefined: absent). */
export interface KubeletFileDiff {
  after?: string
  /** Where the previous content was saved on the node. */
  backup?: string
  before?: string
  path: string
}

export interface RollbackReport {
  /** What went wrong restoring, if anything. */
  error?: string
  /** The kubelet's last journal lines after the failed restart: the cause, in its own words. */
  journal: string
  /** The restart after the files were put back. */
  restart?: RestartOutcome
  /** The files were put back. */
  restored: boolean
}

export interface KubeletFlagsNodeResult {
  changes: PlannedChange[]
  diffs: KubeletFileDiff[]
  durationMs: number
  /** The settings (after the edit, when there was one). */
  effective?: KubeletEffective
  error?: string
  hints?: string[]
  node: string
  restart?: RestartOutcome
  rollback?: RollbackReport
  status: SequencedStatus
  warnings: string[]
}

export interface KubeletFlagsResult {
  dryRun: boolean
  editing: boolean
  nodes: KubeletFlagsNodeResult[]
  restart: boolean
}

/** The edit the flags ask for; unknown keys and bad values are UserErrors before any node is reached. */
export function parseEdit(set: ReadonlyArray<string>, unset: ReadonlyArray<string>): {edit: KubeletEdit; pairs: Array<[string, string]>} {
  const pairs: Array<[string, string]> = []
  for (const item of set) {
    const eq = item.indexOf('=')
    if (eq <= 0) throw new UserError(`--set ${item}: expected KEY=VALUE`, {hints: ['staticpod kubelet flags my-node1 --set pod-manifest-path=/etc/kubelet.d/']})
    pairs.push([item.slice(0, eq).replace(/^--/, ''), item.slice(eq + 1)])
  }

  const keys = new Map<string, string>()
  for (const key of [...pairs.map(([k]) => k), ...unset.map(k => k.replace(/^--/, ''))]) {
    const def = resolveKey(key)
    const id = def.field ?? def.flag ?? key
    const seen = keys.get(id)
    if (seen !== undefined) throw new UserError(`${seen} and ${key} are the same setting: give it once`)
    keys.set(id, key)
  }

  return {edit: {set: Object.fromEntries(pairs), unset: unset.map(k => k.replace(/^--/, ''))}, pairs}
}

interface NodeWork {
  changes: PlannedChange[]
  diffs: KubeletFileDiff[]
  effective: KubeletEffective
  failed?: boolean
  restart?: RestartOutcome
  rollback?: RollbackReport
  status: 'changed' | 'ok' | 'unchanged'
  warnings: string[]
}

export async function kubeletFlags(options: KubeletFlagsOptions): Promise<KubeletFlagsResult> {
  const editing = options.set.length > 0 || options.unset.length > 0
  if (options.restart && !editing) throw new UserError('--restart goes with --set or --unset', {hints: ['To restart without a change: staticpod kubelet restart NODES']})
  const {edit} = parseEdit(options.set.map(([k, v]) => `${k}=${v}`), options.unset)
  const {targets} = await resolveNodes(options)
  const job = async (node: Parameters<Parameters<typeof runOnNodes>[1]>[0]): Promise<NodeWork> => {
    const read = await readKubeletFiles(node)
    if (!editing) return {
      changes: [], diffs: [], effective: read.eff, status: 'ok', warnings: read.eff.warnings,
    }
    const plan: EditPlan = planEdit(read.eff, edit)
    const before = read.eff.texts
    const diffs: KubeletFileDiff[] = [...plan.files].map(([path, after]) => ({after, before: before.get(path), path}))
    const warnings = [...read.eff.warnings, ...plan.warnings]
    const after = effectiveAfter(read.gathered, plan.files)
    if (plan.files.size === 0 || options.dryRun) {
      return {
        changes: plan.changes, diffs, effective: options.dryRun ? after : read.eff, status: plan.files.size === 0 ? 'unchanged' : 'ok', warnings,
      }
    }

    const written = await writeKubeletFiles(node, plan.files, before)
    for (const d of diffs) d.backup = written.find(w => w.path === d.path)?.backup
    if (!options.restart) {
      warnings.push('the kubelet reads these files only when it starts: restart it (staticpod kubelet restart) for the change to take effect')
      return {
        changes: plan.changes, diffs, effective: after, status: 'changed', warnings,
      }
    }

    const daemonReload = [...plan.files.keys()].some(path => isUnitPath(path))
    // The node rolls back by itself when the kubelet does not come back (also if this connection is lost).
    const undo = written.map(w => ({backup: w.backup, path: w.path}))
    const {rollback: onNode, ...restart} = await restartAndWait(node, healthz(after), {
      daemonReload: daemonReload || 'auto', rollback: {endpoint: healthz(read.eff), undo}, waitMs: options.waitMs,
    })
    if (restart.healthy) {
      return {
        changes: plan.changes, diffs, effective: after, restart, status: 'changed', warnings,
      }
    }

    const rollback: RollbackReport = onNode
      ? {
        journal: onNode.journal,
        restored: onNode.restored,
        ...(onNode.restart ? {restart: onNode.restart} : {}),
        ...(rollbackError(onNode.restoreError, onNode.restart)),
      }
      : await rollBack(node, written, {daemonReload: restart.daemonReloaded, endpoint: healthz(read.eff), waitMs: options.waitMs})
    return {
      changes: plan.changes, diffs, effective: read.eff, failed: true, restart, rollback, status: 'changed', warnings,
    }
  }

  const fanOptions = {connectTimeoutMs: options.connectTimeoutMs, onEvent: options.onEvent, parallel: options.parallel}
  // Reading and editing files goes wide; restarting kubelets goes in waves and stops at a failure.
  const outcomes = options.restart && !options.dryRun
    ? await runInWaves(targets, job, {...fanOptions, timeoutMs: (2 * options.waitMs) + 180_000})
    : await runOnNodes(targets, job, {...fanOptions, timeoutMs: 300_000})
  return {
    dryRun: options.dryRun,
    editing,
    nodes: outcomes.map(o => {
      const r = o.result
      return {
        changes: r?.changes ?? [],
        diffs: r?.diffs ?? [],
        durationMs: o.durationMs,
        effective: r?.effective,
        error: o.error ?? (r?.failed ? failureMessage(r, options.waitMs) : undefined),
        hints: o.hints,
        node: o.node,
        restart: r?.restart,
        rollback: r?.rollback,
        status: (r?.failed ? 'failed' : o.status) as NodeStatus | SequencedStatus,
        warnings: [...o.warnings, ...r?.warnings ?? []],
      }
    }),
    restart: options.restart,
  }
}

/**
 * Fallback when the node's restart script did not report a rollback: put the previous bytes back
 * from here, reload if a unit changed, restart, wait. Never throws.
 */
async function rollBack(
  node: Parameters<typeof restoreKubeletFiles>[0],
  written: WrittenFile[],
  options: {daemonReload: boolean; endpoint: ReturnType<typeof healthz>; waitMs: number},
): Promise<RollbackReport> {
  const journal = await kubeletJournal(node)
  try {
    await restoreKubeletFiles(node, written)
  } catch (error) {
    return {error: error instanceof Error ? error.message : String(error), journal, restored: false}
  }

  try {
    const restart = await restartAndWait(node, options.endpoint, {daemonReload: options.daemonReload || 'auto', waitMs: options.waitMs})
    return {
      journal, restart, restored: true, ...rollbackError(undefined, restart),
    }
  } catch (error) {
    return {error: error instanceof Error ? error.message : String(error), journal, restored: true}
  }
}

function rollbackError(restoreError: string | undefined, restart: RestartOutcome | undefined): {error?: string} {
  if (restoreError) return {error: restoreError}
  if (!restart) return {error: 'the kubelet was not restarted after the rollback'}
  if (!restart.healthy) return {error: `the kubelet did not come back after the rollback either${restart.lastAnswer ? ` (last: ${restart.lastAnswer})` : ''}`}
  return {}
}

function failureMessage(r: NodeWork, waitMs: number): string {
  const why = `the kubelet did not answer ok on ${r.restart?.waitedFor ?? 'healthz'} within ${formatSeconds(waitMs)}${r.restart?.lastAnswer ? ` (last: ${r.restart.lastAnswer})` : ''}`
  if (!r.rollback) return why
  if (r.rollback.error) return `${why}; ROLLBACK FAILED: ${r.rollback.error}`
  return `${why}; rolled back: previous files restored, kubelet healthy again`
}
