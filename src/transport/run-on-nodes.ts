/**
 * The entry point for node commands: fan out over SSH. `job` gets a connected node (NodeExec with
 * its target) and returns the node's result; the outcomes say ok/changed/unchanged/failed/
 * unreachable per node, in the order of `targets`.
 */
import type {NodeExec} from './node.js'
import type {NodeTarget} from './target.js'

import {fanOut, type FanOutOptions, type NodeOutcome} from './fan-out.js'
import {SshConnector} from './ssh-node.js'

/** What a job works with: the seam, plus how the node was reached. */
export interface ConnectedNode extends NodeExec {
  readonly target: NodeTarget
}

export interface RunOnNodesOptions<T> extends FanOutOptions<T> {
  /** Overrides the ssh config's ConnectTimeout (default 10s). */
  connectTimeoutMs?: number
}

export async function runOnNodes<T>(
  targets: readonly NodeTarget[],
  job: (node: ConnectedNode, target: NodeTarget) => Promise<T>,
  options: RunOnNodesOptions<T> = {},
): Promise<NodeOutcome<T>[]> {
  const connector = new SshConnector({connectTimeoutMs: options.connectTimeoutMs})
  return fanOut(targets, connector, job, options)
}
