/**
 * NODES → connection targets: the inventory (if any) and the OpenSSH config together, as
 * docs/design.md says. Every usage problem (unknown group, glob that matches nothing, name that
 * `ssh NAME` could not reach either) is found here, before anything connects.
 */
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import os from 'node:os'

import type {Endpoint, NodeTarget} from '../transport/target.js'

import {UserError} from '../errors.js'
import {type Inventory, loadInventory} from './inventory.js'
import {type NodeUniverse, selectNodes, unknownNodeError} from './select.js'
import {SshConfig, type SshHostConfig, type SshOverrides} from './ssh-config.js'

export interface ResolveNodesOptions {
  /** --config / STATICPOD_CONFIG. */
  configPath?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
  home?: string
  /** Does a bare host name resolve (DNS, /etc/hosts)? Default: dns.lookup. */
  lookupHost?: (name: string) => Promise<boolean>
  /** NODES; undefined means every known node. */
  spec?: string
  /** --ssh-config / STATICPOD_SSH_CONFIG; default ~/.ssh/config then /etc/ssh/ssh_config. */
  sshConfigPath?: string
  /** For tests: the system-wide ssh config (default /etc/ssh/ssh_config). */
  systemSshConfigPath?: string
}

export interface ResolvedNodes {
  inventory?: Inventory
  /** Every known node, for listings. */
  known: string[]
  sshConfig: SshConfig
  targets: NodeTarget[]
}

/** Load the inventory and the ssh config, expand NODES, and compute how to reach each node. */
export async function resolveNodes(options: ResolveNodesOptions = {}): Promise<ResolvedNodes> {
  const home = options.home ?? os.homedir()
  const inventory = loadInventory({cwd: options.cwd, explicit: options.configPath, home})
  const sshConfig = new SshConfig({
    env: options.env, home, path: options.sshConfigPath, systemPath: options.systemSshConfigPath,
  })
  const universe = nodeUniverse(inventory, sshConfig)
  const selection = options.spec === undefined ? {names: [...universe.known], unknown: []} : selectNodes(options.spec, universe)
  if (selection.names.length === 0) {
    throw new UserError('no nodes to work on: no inventory lists nodes and the ssh config has no Host aliases', {
      hints: ['Name the nodes (e.g. `staticpod nodes my-node1`), create staticpod.yaml, or pass --config / --ssh-config.'],
    })
  }

  const lookupHost = options.lookupHost ?? resolvesInDns
  await Promise.all(selection.unknown.map(async name => {
    const why = await unreachableName(name, sshConfig, lookupHost)
    if (why) throw unknownNodeError(name, universe, why)
  }))

  const targets = selection.names.map(name => nodeTarget(name, inventory, sshConfig, selection.unknown.includes(name)))
  return {
    inventory, known: [...universe.known], sshConfig, targets,
  }
}

/** Known nodes: the inventory's (with group members when it lists no nodes), else the ssh config's Host aliases. */
export function nodeUniverse(inventory: Inventory | undefined, sshConfig: SshConfig): NodeUniverse {
  const groups = inventory?.groups ?? new Map<string, string[]>()
  let known: string[]
  if (inventory && inventory.nodes.size > 0) known = [...inventory.nodes.keys()]
  else {
    known = sshConfig.aliases()
    for (const members of groups.values()) {
      for (const member of members) if (!groups.has(member) && !known.includes(member)) known.push(member)
    }
  }

  return {groups, known}
}

/** The connection target of one node: inventory fields, then inventory defaults, then the ssh config. */
export function nodeTarget(name: string, inventory: Inventory | undefined, sshConfig: SshConfig, adHoc = false): NodeTarget {
  const node = inventory?.nodes.get(name)
  const defaults = inventory?.defaults ?? {}
  const host = sshConfig.resolve(name, {
    hostName: node?.host,
    port: node?.port ?? defaults.port,
    user: node?.user ?? defaults.user,
  })
  let source: NodeTarget['source'] = 'ssh-config'
  if (node) source = 'inventory'
  else if (adHoc && !host.matchedHostBlock) source = 'hostname'
  return {
    ...endpoint(name, host),
    jump: jumpChain(host, inventory, sshConfig, [name]),
    manifestDir: node?.manifestDir ?? defaults.manifestDir,
    source,
    sudo: node?.sudo ?? defaults.sudo ?? host.user !== 'root',
  }
}

function endpoint(name: string, host: SshHostConfig): Endpoint {
  return {
    connectTimeoutMs: host.connectTimeoutMs,
    host: host.hostName,
    hostKey: {
      globalKnownHostsFiles: host.globalKnownHostsFiles,
      hashKnownHosts: host.hashKnownHosts,
      hostKeyAlias: host.hostKeyAlias,
      strictHostKeyChecking: host.strictHostKeyChecking,
      userKnownHostsFiles: host.userKnownHostsFiles,
    },
    identitiesOnly: host.identitiesOnly,
    identityAgent: host.identityAgent,
    identityFiles: host.identityFiles,
    identityFilesExplicit: host.identityFilesExplicit,
    name,
    port: host.port,
    proxyCommand: host.proxyCommand,
    user: host.user,
  }
}

/**
 * ProxyJump as ssh does it: for `a,b` the last hop b is reached through a, and the first hop's own
 * ProxyJump (from its config) applies to it.
 */
function jumpChain(host: SshHostConfig, inventory: Inventory | undefined, sshConfig: SshConfig, seen: string[]): Endpoint[] {
  if (host.proxyJump.length === 0) return []
  if (seen.length > 8) throw new UserError(`ProxyJump chain too long or looping: ${seen.join(' → ')}`)
  const hops = host.proxyJump.map(spec => parseJump(spec))
  const chain: Endpoint[] = []
  for (const [index, hop] of hops.entries()) {
    const node = inventory?.nodes.get(hop.host)
    const resolved = sshConfig.resolve(hop.host, {
      hostName: node?.host,
      port: hop.port ?? node?.port,
      user: hop.user ?? node?.user,
    } satisfies SshOverrides)
    if (index === 0 && !seen.includes(hop.host)) chain.push(...jumpChain(resolved, inventory, sshConfig, [...seen, hop.host]))
    chain.push(endpoint(hop.spec, resolved))
  }

  return chain
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export function parseJump(spec: string): {host: string; port?: number; spec: string; user?: string} {
  const text = spec.replace(/^ssh:\/\//, '')
  const match = /^(?:([^@]+)@)?(\[[^\]]+]|[^:]+)(?::(\d+))?$/.exec(text)
  if (!match) throw new UserError(`invalid ProxyJump entry "${spec}"`, {hints: ['Use [user@]host[:port], comma-separated.']})
  const port = match[3] ? Number(match[3]) : undefined
  if (port !== undefined && (port < 1 || port > 65_535)) throw new UserError(`invalid port in ProxyJump entry "${spec}"`)
  return {
    host: match[2]!.replace(/^\[(.*)]$/, '$1'), port, spec, user: match[1],
  }
}

/** Why `ssh NAME` could not work for a name that is neither in the inventory nor a Host alias; undefined when it could. */
async function unreachableName(name: string, sshConfig: SshConfig, lookupHost: (name: string) => Promise<boolean>): Promise<string | undefined> {
  const host = sshConfig.resolve(name)
  if (isIP(host.hostName)) return undefined
  // A HostName from the config, or a jump host that resolves the name on its side: ssh would try it.
  if (host.matchedHostBlock && (host.hostName !== name || host.proxyJump.length > 0)) return undefined
  if (await lookupHost(host.hostName)) return undefined
  return `not in the inventory, no Host entry in the ssh config matches it, and "${host.hostName}" does not resolve as a host name`
}

async function resolvesInDns(name: string): Promise<boolean> {
  try {
    await lookup(name)
    return true
  } catch {
    return false
  }
}
