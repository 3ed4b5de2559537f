/**
 * What the transport needs to reach a node: plain data, produced by src/nodes/ from the inventory
 * and the OpenSSH config, consumed by the ssh2 connector. No ssh2 types.
 */
import type {HostKeyPolicy} from './host-keys.js'

/** One SSH server to connect to: a node, or a jump host on the way to one. */
export interface Endpoint {
  /** ssh_config ConnectTimeout, when set. */
  connectTimeoutMs?: number
  /** The address to connect to (HostName). */
  host: string
  hostKey: HostKeyPolicy
  /** IdentitiesOnly: of the agent's keys, only those of identityFiles are offered. */
  identitiesOnly: boolean
  /** ssh-agent socket (IdentityAgent / SSH_AUTH_SOCK), if any. */
  identityAgent?: string
  /** Private key files to try, in order. */
  identityFiles: string[]
  /** False when identityFiles are OpenSSH's defaults: missing ones are then skipped silently. */
  identityFilesExplicit: boolean
  /** How the user calls it: the node name, or the ProxyJump entry. */
  name: string
  port: number
  /** Set when the config asks for a ProxyCommand, which staticpod does not run. */
  proxyCommand?: string
  user: string
}

/** A node selected by the user, with everything needed to reach it and work on it. */
export interface NodeTarget extends Endpoint {
  /** Jump hosts to go through, outermost first (ProxyJump); empty for a direct connection. */
  jump: Endpoint[]
  /** The inventory's manifestDir for this node, if it says one. */
  manifestDir?: string
  /** Where the node's name was found. */
  source: 'hostname' | 'inventory' | 'ssh-config'
  /** Root work goes through `sudo -n` (default: when the user is not root). */
  sudo: boolean
}
