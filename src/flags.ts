/**
 * Flags shared by every command that touches nodes (docs/design.md "Global flags"). Spread them into
 * a command's flags (`static flags = {...nodeFlags, ...}`) and turn the parsed values into options
 * for the ops with nodeOptions(). --json is plain here: commands print their one JSON document
 * themselves (do not also set enableJsonFlag).
 */
import {Flags} from '@oclif/core'

import {UserError} from './errors.js'
import {DEFAULT_HANDSHAKES, DEFAULT_PARALLEL} from './transport/fan-out.js'

const UNITS: Record<string, number> = {
  '': 1000, h: 3_600_000, m: 60_000, ms: 1, s: 1000,
}

/** `500ms`, `30s`, `5m`, `1h`, `1m30s`; a bare number is seconds. Returns milliseconds; a usage error (exit 2) otherwise. */
export function parseDuration(text: string): number {
  const input = text.trim()
  const parts = [...input.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)?/g)]
  const total = parts.reduce((sum, [, amount, unit]) => sum + (Number(amount) * UNITS[unit ?? '']!), 0)
  if (parts.length === 0 || parts.map(([whole]) => whole).join('') !== input || (parts.length > 1 && parts.some(part => !part[2]))) {
    throw new UserError(`invalid duration "${text}": use e.g. 500ms, 30s, 5m, 1h or 1m30s`)
  }

  if (total <= 0) throw new UserError(`invalid duration "${text}": must be more than 0`)
  return Math.round(total)
}

const duration = Flags.custom<number>({
  helpValue: 'DURATION',
  async parse(input) {
    return parseDuration(input)
  },
})

export const nodeFlags = {
  config: Flags.string({
    env: 'STATICPOD_CONFIG',
    helpGroup: 'NODE',
    helpValue: 'FILE',
    summary: 'Inventory file. Default: ./staticpod.yaml, else ~/.config/staticpod/config.yaml.',
  }),
  'connect-timeout': duration({
    helpGroup: 'NODE',
    summary: 'Time limit for connecting to a node. Default: ConnectTimeout of the ssh config, else 10s.',
  }),
  json: Flags.boolean({helpGroup: 'NODE', summary: 'Print one JSON document on stdout, nothing else.'}),
  parallel: Flags.integer({
    default: DEFAULT_PARALLEL,
    helpGroup: 'NODE',
    helpValue: 'N',
    min: 1,
    summary: `Nodes to work on at once (connections being opened: at most ${DEFAULT_HANDSHAKES}).`,
  }),
  'ssh-config': Flags.string({
    env: 'STATICPOD_SSH_CONFIG',
    helpGroup: 'NODE',
    helpValue: 'FILE',
    summary: 'OpenSSH client config, like ssh -F. Default: ~/.ssh/config, then /etc/ssh/ssh_config.',
  }),
  timeout: duration({
    default: 300_000,
    defaultHelp: async () => '5m',
    helpGroup: 'NODE',
    summary: 'Time limit per node, connecting included; its remote commands are stopped when it passes.',
  }),
}

/** Where the commands that ask the API server (status, add --wait) find it: like kubectl. */
export const clusterFlags = {
  context: Flags.string({helpGroup: 'CLUSTER', helpValue: 'NAME', summary: 'The kubeconfig context to use (default: its current-context).'}),
  kubeconfig: Flags.string({
    helpGroup: 'CLUSTER',
    helpValue: 'FILE',
    summary: 'Kubeconfig for the API server (mirror pods). Default: the inventory\'s kubeconfig, else KUBECONFIG, else ~/.kube/config.',
  }),
}

/**
 * `--timeout` of the kubelet commands: how long to wait for the kubelet's healthz after a restart
 * (2m, like kubeadm's wait), not the per-node limit of nodeFlags.
 */
export function healthzTimeoutFlag(summary: string) {
  return duration({
    default: 120_000, defaultHelp: async () => '2m', helpGroup: 'NODE', summary,
  })
}

/** What nodeFlags parse into. */
export interface NodeFlagValues {
  config?: string
  'connect-timeout'?: number
  json: boolean
  parallel: number
  'ssh-config'?: string
  timeout?: number
}

/** The options the ops take (resolveNodes, runOnNodes), from the parsed flags. */
export interface NodeOptions {
  configPath?: string
  connectTimeoutMs?: number
  parallel: number
  sshConfigPath?: string
  timeoutMs?: number
}

export function nodeOptions(flags: NodeFlagValues): NodeOptions {
  return {
    configPath: flags.config,
    connectTimeoutMs: flags['connect-timeout'],
    parallel: flags.parallel,
    sshConfigPath: flags['ssh-config'],
    timeoutMs: flags.timeout,
  }
}
