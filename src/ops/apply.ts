/**
 * Changing a node's manifest directory, shared by add, rm, disable and enable: run the apply
 * script (src/ops/node-scripts.ts) for a plan made from what the probe read, and start over from a
 * fresh read when the directory changed in between (another staticpod, or a person).
 */
import {randomBytes} from 'node:crypto'

import type {NodeOptions} from '../flags.js'
import type {FanOutEvent} from '../transport/fan-out.js'
import type {NodeExec} from '../transport/node.js'

import {RemoteCommandError} from '../errors.js'
import {describeArgv, type ManifestFile, type NodeManifests} from './manifest-dir.js'
import {
  applyArgv, type ApplyStep, EXIT_CHANGED, fingerprint, parseApplyOutput, scriptSaid, STATE_DIR,
} from './node-scripts.js'
import {printable} from './pod-ref.js'

/** The directory changed since it was read: read it again and plan again. */
export class StaleStateError extends Error {
  constructor(node: string) {
    super(`${node}: the manifest directory changed while staticpod was working on it`)
    this.name = 'StaleStateError'
  }
}

/** A change staticpod refuses to make on a node (the node fails, the others go on). */
export class RefusedError extends Error {
  readonly hints: string[]

  constructor(message: string, hints: string[] = []) {
    super(message)
    this.name = 'RefusedError'
    this.hints = hints
  }
}

/** The options add, rm, disable and enable have in common. */
export interface ManifestChangeOptions extends NodeOptions {
  /** Back up replaced or removed files (--no-backup: false). */
  backup: boolean
  cwd?: string
  /** Plan and show, change nothing. */
  dryRun: boolean
  env?: NodeJS.ProcessEnv
  home?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  /** NODES. */
  spec: string
}

export interface ApplyOptions {
  backup: boolean
  stateDir?: string
  timeoutMs?: number
}

/**
 * Run `steps` on the node as root. Returns the backup made for each step (by index). Throws
 * StaleStateError when the directories are not what `state` says, RemoteCommandError on failure.
 */
export async function applySteps(node: NodeExec, state: NodeManifests, steps: readonly ApplyStep[], options: ApplyOptions): Promise<Map<number, string>> {
  const {argv, stdin} = applyArgv({
    backup: options.backup,
    disabledDir: state.disabledDir,
    fingerprint: state.fingerprint,
    manifestDir: state.dir.path,
    random: randomBytes(8).toString('hex'),
    stateDir: options.stateDir ?? STATE_DIR,
  }, steps)
  const result = await node.run(argv, {root: true, stdin, timeoutMs: options.timeoutMs})
  if (result.code === EXIT_CHANGED) throw new StaleStateError(node.name)
  const output = parseApplyOutput(result.stdout)
  if (result.code !== 0 || !output.finished) {
    const done = output.done.map(index => describeStep(steps[index]!)).join(', ')
    const lines = result.stderr.trim().split('\n').filter(Boolean)
    const said = scriptSaid(result.stderr)
    // Otherwise the last thing a command of the script said: "No space left on device", "Read-only file system".
    const message = said ?? `changing ${state.dir.path} failed: ${lines.at(-1) ?? `exit ${result.code ?? result.signal}`}`
    throw new RemoteCommandError(node.name, describeArgv(argv), result, `${node.name}: ${message}${done ? ` (done before that: ${done})` : ''}`)
  }

  return output.backups
}

function describeStep(step: ApplyStep): string {
  return `${step.op} ${step.name}`
}

/**
 * Plan from the node's state and apply the plan, as add, rm, disable and enable do: when the directory
 * changed since it was read (another writer), it is read again and planned again. A plan without
 * steps, or a dry run, changes nothing. Returns the plan, the backups made and the state planned from.
 */
export async function planAndApply<P extends {steps: readonly ApplyStep[]}>(
  node: NodeExec,
  state: NodeManifests,
  read: () => Promise<NodeManifests>,
  plan: (state: NodeManifests) => P,
  options: {backup: boolean; dryRun?: boolean},
): Promise<{backups: Map<number, string>; plan: P; state: NodeManifests}> {
  return withFreshState(state, read, async current => {
    assertDirectory(current)
    const planned = plan(current)
    const backups = planned.steps.length === 0 || options.dryRun ? new Map<number, string>() : await applySteps(node, current, planned.steps, {backup: options.backup})
    return {backups, plan: planned, state: current}
  })
}

/**
 * Plan and apply from `state`; when the directory changed in between, read it again and plan again
 * (up to `tries` times in all).
 */
export async function withFreshState<T>(state: NodeManifests, read: () => Promise<NodeManifests>, attempt: (state: NodeManifests) => Promise<T>, tries = 4): Promise<T> {
  let current = state
  for (let n = 1; ; n++) {
    try {
      // eslint-disable-next-line no-await-in-loop -- each try needs the state the previous one found stale
      return await attempt(current)
    } catch (error) {
      if (!(error instanceof StaleStateError) || n >= tries) throw error
    }

    // eslint-disable-next-line no-await-in-loop
    current = await read()
  }
}

/**
 * The state after `steps` ran (what the next plan and the next fingerprint start from): `added`
 * gives the file each put creates.
 */
export function simulate(state: NodeManifests, steps: readonly ApplyStep[], added: (name: string) => ManifestFile): NodeManifests {
  let files = [...state.files]
  let disabled = [...state.disabled]
  for (const step of steps) {
    const inDir = files.find(f => f.name === step.name)
    const inParked = disabled.find(f => f.name === step.name)
    switch (step.op) {
    case 'park': {
      files = files.filter(f => f.name !== step.name)
      disabled = [...disabled.filter(f => f.name !== step.name), ...(inDir ? [{...inDir, path: `${state.disabledDir}/${step.name}`}] : [])]
      break
    }

    case 'put': {
      files = [...files.filter(f => f.name !== step.name), added(step.name)]
      break
    }

    case 'rm': {
      files = files.filter(f => f.name !== step.name)
      break
    }

    case 'rmp': {
      disabled = disabled.filter(f => f.name !== step.name)
      break
    }

    case 'unpark': {
      disabled = disabled.filter(f => f.name !== step.name)
      files = [...files.filter(f => f.name !== step.name), ...(inParked ? [{...inParked, path: `${state.dir.path.replace(/\/+$/, '')}/${step.name}`}] : [])]
      break
    }
    }
  }

  return {
    ...state, dir: {...state.dir, kind: 'dir'}, disabled: sorted(disabled), files: sorted(files), fingerprint: fingerprint(files, disabled),
  }
}

function sorted(list: ManifestFile[]): ManifestFile[] {
  return list.sort((a, b) => Buffer.compare(a.raw, b.raw))
}

/** Refuse to change a node whose static pod path is not a directory (or not there yet, which is fine). */
export function assertDirectory(state: NodeManifests): void {
  if (!state.dir.path.startsWith('/')) {
    throw new RefusedError(`the kubelet's static pod path "${state.dir.path}" is relative (to the kubelet's working directory), which staticpod does not guess`, [
      'Set manifestDir for this node in the inventory, or give the kubelet an absolute path.',
    ])
  }

  if (state.dir.kind === 'file') {
    throw new RefusedError(`the kubelet's static pod path ${state.dir.path} is a single file, not a directory: staticpod only manages manifest directories`, [
      'Point the kubelet at a directory (staticPodPath / --pod-manifest-path), or set manifestDir for this node in the inventory.',
    ])
  }

  if (state.dir.kind === 'other') {
    throw new RefusedError(`the static pod path ${state.dir.path} exists but is neither a directory nor a file`)
  }
}

/** A name from the node that staticpod can hand back to it exactly (valid UTF-8). */
export function assertPlainName(file: ManifestFile): void {
  if (!Buffer.from(file.name, 'utf8').equals(file.raw)) {
    throw new RefusedError(`the name of ${printable(file.path)} is not valid UTF-8; staticpod cannot name it exactly: remove it by hand`)
  }
}
