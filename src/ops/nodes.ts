/**
 * `staticpod nodes`: the selected (default: all known) nodes, how each is reached, and whether it
 * answers: connect, run `uname -n`, time the round trip.
 */
import type {NodeOptions} from '../flags.js'
import type {FanOutEvent, NodeStatus} from '../transport/fan-out.js'

import {resolveNodes} from '../nodes/resolve.js'
import {runOnNodes} from '../transport/run-on-nodes.js'

export interface NodesOptions extends NodeOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  onEvent?: (event: FanOutEvent<unknown>) => void
  /** NODES; undefined for every known node. */
  spec?: string
}

export interface NodeInfo {
  /** Address connected to (HostName). */
  address: string
  /** Connect plus `uname -n`, in milliseconds. */
  durationMs: number
  error?: string
  hints?: string[]
  /** What `uname -n` said on the node. */
  hostname?: string
  name: string
  port: number
  reachable: boolean
  /** Round trip of `uname -n` on the open connection, in milliseconds. */
  rttMs?: number
  /** Where the name came from: inventory, ssh-config, or a plain host name. */
  source: 'hostname' | 'inventory' | 'ssh-config'
  status: NodeStatus
  user: string
  /** Jump hosts, outermost first, joined with ' > '; null for a direct connection. */
  via: null | string
  warnings: string[]
}

export interface NodesResult {
  /** The inventory file used, if any. */
  inventory?: string
  nodes: NodeInfo[]
}

export async function listNodes(options: NodesOptions): Promise<NodesResult> {
  const {inventory, targets} = await resolveNodes({
    configPath: options.configPath,
    cwd: options.cwd,
    env: options.env,
    home: options.home,
    spec: options.spec,
    sshConfigPath: options.sshConfigPath,
  })
  const outcomes = await runOnNodes(
    targets,
    async node => {
      const started = process.hrtime.bigint()
      const result = await node.run(['uname', '-n'])
      const rttMs = Number(process.hrtime.bigint() - started) / 1e6
      if (result.code !== 0) throw new Error(`uname -n exited with ${result.code ?? result.signal}: ${result.stderr.trim()}`)
      return {hostname: result.stdout.trim(), rttMs: Math.round(rttMs * 100) / 100}
    },
    {
      connectTimeoutMs: options.connectTimeoutMs,
      onEvent: options.onEvent,
      parallel: options.parallel,
      timeoutMs: options.timeoutMs,
    },
  )
  const nodes = targets.map((target, index): NodeInfo => {
    const outcome = outcomes[index]!
    return {
      address: target.host,
      durationMs: outcome.durationMs,
      error: outcome.error,
      hints: outcome.hints,
      hostname: outcome.result?.hostname,
      name: target.name,
      port: target.port,
      reachable: outcome.status === 'ok',
      rttMs: outcome.result?.rttMs,
      source: target.source,
      status: outcome.status,
      user: target.user,
      via: target.jump.length > 0 ? target.jump.map(hop => hop.name).join(' > ') : null,
      warnings: outcome.warnings,
    }
  })
  return {inventory: inventory?.path, nodes}
}
