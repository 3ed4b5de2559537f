/**
 * Run one job per node, many nodes at once: at most `parallel` nodes in flight, at most
 * `handshakes` connections being set up at once, a per-node time limit that also stops the remote
 * work. One node's failure never stops the others; every node gets an outcome.
 */
import {formatMs} from './duration.js'
import {NodeError, NodeTimeoutError} from './errors.js'
import {Semaphore} from './semaphore.js'

export type NodeStatus = 'changed' | 'failed' | 'ok' | 'unchanged' | 'unreachable'

export interface NodeOutcome<T = unknown> {
  durationMs: number
  /** Set for failed and unreachable nodes. */
  error?: string
  /** NodeError kind (auth, connect, host-key, sudo, timeout, config), or 'error' for anything else. */
  errorKind?: string
  hints?: string[]
  node: string
  /** What the job returned (ok, changed, unchanged). */
  result?: T
  status: NodeStatus
  warnings: string[]
}

/** A node the job can work on; closed by the fan-out when the job is done. */
export interface Closable {
  close(): Promise<void>
}

export interface Connector<Target, N extends Closable> {
  /** Closes what the connector shares between nodes (jump hosts). */
  close(): Promise<void>
  connect(target: Target, context: {deadline?: number; onWarning?: (message: string) => void}): Promise<N>
}

/** A node finished; `done` of `total` are finished now. */
export interface FanOutDone<T> {
  done: number
  outcome: NodeOutcome<T>
  total: number
  type: 'done'
}

export interface FanOutWarning {
  message: string
  node: string
  type: 'warning'
}

export interface FanOutPhase {
  node: string
  phase: 'connecting' | 'running'
  type: 'phase'
}

export type FanOutEvent<T> = FanOutDone<T> | FanOutPhase | FanOutWarning

export interface FanOutOptions<T> {
  /** Connections being set up at once. Default DEFAULT_HANDSHAKES. */
  handshakes?: number
  onEvent?: (event: FanOutEvent<T>) => void
  /** Nodes in flight at once. Default DEFAULT_PARALLEL. */
  parallel?: number
  /** Per node, connection included; on expiry the node's connection is closed, which stops its remote commands. */
  timeoutMs?: number
}

export const DEFAULT_PARALLEL = 64
/**
 * Connections being set up at once, over all nodes: bounds the work of a burst of key exchanges.
 * MaxStartups is a limit of each sshd, kept per server by the SSH connector (HANDSHAKES_PER_SERVER).
 */
export const DEFAULT_HANDSHAKES = 64

/** A job's own verdict; anything else that it returns counts as 'ok'. */
interface WithStatus {
  status?: 'changed' | 'ok' | 'unchanged'
}

/** Outcomes in the order of `targets`. Never throws for a node's failure. */
export async function fanOut<Target extends {name: string}, N extends Closable, T>(
  targets: readonly Target[],
  connector: Connector<Target, N>,
  job: (node: N, target: Target) => Promise<T>,
  options: FanOutOptions<T> = {},
): Promise<NodeOutcome<T>[]> {
  const nodes = new Semaphore(options.parallel ?? DEFAULT_PARALLEL)
  const handshakes = new Semaphore(options.handshakes ?? DEFAULT_HANDSHAKES)
  const emit = options.onEvent ?? (() => {})
  let done = 0
  const outcomes: NodeOutcome<T>[] = []
  try {
    await Promise.all(targets.map(async (target, index) => {
      const outcome = await nodes.use(async () => runOne(target, connector, job, handshakes, options, emit))
      outcomes[index] = outcome
      done++
      emit({
        done, outcome, total: targets.length, type: 'done',
      })
    }))
  } finally {
    await connector.close()
  }

  return outcomes
}

async function runOne<Target extends {name: string}, N extends Closable, T>(
  target: Target,
  connector: Connector<Target, N>,
  job: (node: N, target: Target) => Promise<T>,
  handshakes: Semaphore,
  options: FanOutOptions<T>,
  emit: (event: FanOutEvent<T>) => void,
): Promise<NodeOutcome<T>> {
  const started = Date.now()
  const warnings: string[] = []
  const onWarning = (message: string): void => {
    warnings.push(message)
    emit({message, node: target.name, type: 'warning'})
  }

  const deadline = options.timeoutMs === undefined ? undefined : started + options.timeoutMs
  let node: N | undefined
  let connected = false
  let timer: NodeJS.Timeout | undefined
  const finish = (status: NodeStatus, extra: Partial<NodeOutcome<T>> = {}): NodeOutcome<T> => ({
    durationMs: Date.now() - started,
    node: target.name,
    status,
    warnings,
    ...extra,
  })

  const work = (async () => {
    emit({node: target.name, phase: 'connecting', type: 'phase'})
    node = await handshakes.use(async () => connector.connect(target, {deadline, onWarning}))
    connected = true
    emit({node: target.name, phase: 'running', type: 'phase'})
    return job(node, target)
  })()

  const limit
    = options.timeoutMs === undefined
      ? new Promise<never>(() => {})
      : new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new NodeTimeoutError(target.name, `${target.name} did not finish within ${formatMs(options.timeoutMs!)}${connected ? '; its remote commands were stopped' : ' (still connecting)'}`))
        }, options.timeoutMs)
      })

  try {
    const result = await Promise.race([work, limit])
    const own = (result as undefined | WithStatus)?.status
    return finish(own === 'changed' || own === 'unchanged' ? own : 'ok', {result})
  } catch (error) {
    // Closing the connection is what stops the remote work of a node that ran out of time.
    work.catch(() => {})
    return finish(connected ? 'failed' : 'unreachable', describe(error))
  } finally {
    clearTimeout(timer)
    // A node that connects after its time ran out is closed as soon as it is there.
    if (node) await node.close().catch(() => {})
    else work.then(async () => node?.close(), () => {}).catch(() => {})
  }
}

function describe(error: unknown): {error: string; errorKind: string; hints?: string[]} {
  if (error instanceof NodeError) return {error: error.message, errorKind: error.kind, hints: error.hints.length > 0 ? error.hints : undefined}
  if (error instanceof Error && 'hints' in error && Array.isArray(error.hints)) {
    return {error: error.message, errorKind: 'error', hints: error.hints as string[]}
  }

  return {error: error instanceof Error ? error.message : String(error), errorKind: 'error'}
}

/** 0 when every node succeeded, 1 when any failed or was unreachable (docs/design.md "Exit codes"). */
export function exitCodeFor(outcomes: ReadonlyArray<{status: NodeStatus}>): 0 | 1 {
  return outcomes.some(outcome => outcome.status === 'failed' || outcome.status === 'unreachable') ? 1 : 0
}

/** Counts per status. */
export function countStatuses(outcomes: ReadonlyArray<{status: NodeStatus}>): Record<NodeStatus, number> {
  const counts: Record<NodeStatus, number> = {
    changed: 0, failed: 0, ok: 0, unchanged: 0, unreachable: 0,
  }
  for (const outcome of outcomes) counts[outcome.status]++
  return counts
}
