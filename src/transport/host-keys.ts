/**
 * Host key verification with OpenSSH's semantics and files. There is no way to turn it off: an
 * unknown key is refused (or recorded under accept-new), a changed or revoked key is always refused.
 */
import {appendFileSync, mkdirSync, readFileSync} from 'node:fs'
import {dirname} from 'node:path'

import {HostKeyError} from './errors.js'
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  keyTypeLabel,
  keyTypeOf,
  type KnownHostsEntry,
  knownHostsName,
  type KnownHostsParse,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.js'

/** ssh_config StrictHostKeyChecking. `ask` cannot ask here and behaves as `yes`; `no` as `accept-new`. */
export type StrictHostKeyChecking = 'accept-new' | 'ask' | 'no' | 'yes'

export interface HostKeyPolicy {
  globalKnownHostsFiles: string[]
  hashKnownHosts: boolean
  /** The name looked up in known_hosts instead of the host (ssh_config HostKeyAlias). */
  hostKeyAlias?: string
  strictHostKeyChecking: StrictHostKeyChecking
  /** New keys are recorded in the first one. */
  userKnownHostsFiles: string[]
}

/** Reads each known_hosts file once per process and appends recorded keys. */
export class KnownHostsStore {
  private readonly files = new Map<string, KnownHostsParse>()

  /** Append a line; returns its 1-based line number. */
  append(file: string, line: string): number {
    const current = this.readText(file)
    mkdirSync(dirname(file), {mode: 0o700, recursive: true})
    const prefix = current !== '' && !current.endsWith('\n') ? '\n' : ''
    appendFileSync(file, `${prefix}${line}\n`, {mode: 0o600})
    const text = `${current}${prefix}${line}\n`
    this.files.set(file, parseKnownHosts(text, file))
    return text.split('\n').length - 1
  }

  entries(files: readonly string[]): KnownHostsEntry[] {
    return files.flatMap(file => this.read(file).entries)
  }

  read(file: string): KnownHostsParse {
    let parsed = this.files.get(file)
    if (!parsed) {
      parsed = parseKnownHosts(this.readText(file), file)
      this.files.set(file, parsed)
    }

    return parsed
  }

  private readText(file: string): string {
    try {
      return readFileSync(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
      throw error
    }
  }
}

export interface VerifyHostKeyInput {
  host: string
  key: Buffer
  /** The node (or jump host) name for messages. */
  node: string
  policy: HostKeyPolicy
  port: number
  store: KnownHostsStore
}

export interface VerifyHostKeyResult {
  /** Things the user should know even though the key was accepted (recorded keys, ignored lines). */
  notes: string[]
}

/** Key types the files list for this host: offered first in the key exchange, like ssh does. */
export function preferredHostKeyTypes(store: KnownHostsStore, policy: HostKeyPolicy, host: string, port: number): string[] {
  const files = [...policy.userKnownHostsFiles, ...policy.globalKnownHostsFiles]
  const lookup = lookupName(policy, host, port)
  return knownKeyTypes(store.entries(files), lookup.host, lookup.port)
}

/** Accept the key or throw HostKeyError. Records a new key under accept-new (and `no`). */
export function verifyHostKey(input: VerifyHostKeyInput): VerifyHostKeyResult {
  const {key, node, policy, store} = input
  const {host, port} = lookupName(policy, input.host, input.port)
  const name = knownHostsName(host, port)
  const keyType = keyTypeOf(key) ?? 'unknown'
  const label = keyTypeLabel(keyType)
  const print = fingerprint(key)
  const where = name === node ? node : `${node} (${name})`
  const files = [...policy.userKnownHostsFiles, ...policy.globalKnownHostsFiles]
  const {certAuthorities, verdict} = checkHostKey(store.entries(files), host, port, key)
  const notes = certAuthorities.map(entry =>
    `${entry.file}:${entry.line}: @cert-authority ignored for ${where}: host certificates are not supported, only plain host keys`)
  const line = formatKnownHostsLine(host, port, key)
  const firstFile = policy.userKnownHostsFiles[0]

  switch (verdict.status) {
  case 'changed': {
    const expected = verdict.expected
    .map(entry => `  ${fingerprint(entry.key)} (${entry.file}:${entry.line})`)
    .join('\n')
    const removeFrom = verdict.expected[0]?.file ?? firstFile ?? '~/.ssh/known_hosts'
    throw new HostKeyError(
      node,
      [
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
        '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
        'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
        `The ${label} host key of ${where} has changed; refusing to connect.`,
        `Known key${verdict.expected.length > 1 ? 's' : ''}:`,
        expected,
        `Presented key:\n  ${print}`,
      ].join('\n'),
      [
        `If the host really was reinstalled, check the new fingerprint out of band, then remove the old key with: ssh-keygen -f ${removeFrom} -R '${name}'`,
      ],
    )
  }

  case 'known': {
    return {notes}
  }

  case 'revoked': {
    throw new HostKeyError(
      node,
      `the ${label} host key of ${where} is marked as revoked (${verdict.entry.file}:${verdict.entry.line}); refusing to connect: ${print}`,
    )
  }

  case 'unknown': {
    const others
      = verdict.otherTypes.length > 0
        ? ` (keys of other types are known: ${verdict.otherTypes.map(entry => `${keyTypeLabel(entry.keyType)} at ${entry.file}:${entry.line}`).join(', ')})`
        : ''
    const strict = policy.strictHostKeyChecking
    if ((strict === 'accept-new' || strict === 'no') && firstFile) {
      const recorded = policy.hashKnownHosts ? formatKnownHostsLine(host, port, key, {hash: true}) : line
      const lineNumber = store.append(firstFile, recorded)
      notes.push(`${where}: new ${label} host key ${print} recorded in ${firstFile}:${lineNumber} (StrictHostKeyChecking ${strict})${others}`)
      return {notes}
    }

    const why
      = strict === 'ask'
        ? 'StrictHostKeyChecking is ask (the default), and staticpod cannot ask'
        : `StrictHostKeyChecking is ${strict}`
    throw new HostKeyError(node, `the host key of ${where} is not known${others}: ${label} key ${print}; ${why}`, [
      `Check the fingerprint out of band (on the node: ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileStem(keyType)}_key.pub),`
      + ` then add this line to ${firstFile ?? '~/.ssh/known_hosts'}:\n  ${line}`,
      `Or connect once with \`ssh ${node}\` and accept the key, or set \`StrictHostKeyChecking accept-new\` for this host in the ssh config.`,
    ])
  }
  }
}

function lookupName(policy: HostKeyPolicy, host: string, port: number): {host: string; port: number} {
  // With HostKeyAlias, ssh looks the alias up as is, without the [host]:port form.
  return policy.hostKeyAlias ? {host: policy.hostKeyAlias, port: 22} : {host, port}
}

function hostKeyFileStem(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ed25519'
  if (keyType.startsWith('ecdsa-')) return 'ecdsa'
  return 'rsa'
}
