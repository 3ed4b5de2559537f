/**
 * OpenSSH known_hosts files: parse, match a host against them, decide what a presented host key
 * means, format new lines. Pure (no I/O); sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" and
 * openssh-portable hostfile.c/match.c are the reference.
 */
import {createHash, createHmac, randomBytes} from 'node:crypto'

export type KnownHostsMarker = 'cert-authority' | 'revoked'

export interface KnownHostsEntry {
  /** Path of the file, as it will be shown to the user. */
  file: string
  /** The key blob (the base64 field, decoded). */
  key: Buffer
  /** The key's type as encoded inside the blob (e.g. ssh-ed25519). */
  keyType: string
  /** 1-based line number. */
  line: number
  marker?: KnownHostsMarker
  /** The host patterns field as written: comma list, wildcards, `!`, `[host]:port`, or `|1|salt|hash`. */
  patterns: string
}

export interface KnownHostsParse {
  entries: KnownHostsEntry[]
  /** Lines that were skipped, with the reason (OpenSSH skips them too). */
  skipped: Array<{file: string; line: number; reason: string}>
}

/** Parse a known_hosts file. Malformed lines are skipped and reported, never fatal. */
export function parseKnownHosts(text: string, file: string): KnownHostsParse {
  const entries: KnownHostsEntry[] = []
  const skipped: KnownHostsParse['skipped'] = []
  const lines = text.split('\n')
  for (const [index, raw] of lines.entries()) {
    const lineText = raw.trim()
    if (lineText === '' || lineText.startsWith('#')) continue
    const line = index + 1
    const fields = lineText.split(/\s+/)
    let marker: KnownHostsMarker | undefined
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()
      if (name === '@cert-authority') marker = 'cert-authority'
      else if (name === '@revoked') marker = 'revoked'
      else {
        skipped.push({file, line, reason: `unknown marker ${name}`})
        continue
      }
    }

    const [patterns, typeField, base64] = fields
    if (!patterns || !typeField || !base64) {
      skipped.push({file, line, reason: 'expected "hosts keytype base64-key"'})
      continue
    }

    const key = decodeBase64(base64)
    const keyType = key ? keyTypeOf(key) : undefined
    if (!key || !keyType) {
      skipped.push({file, line, reason: 'the key is not valid base64 of an SSH public key'})
      continue
    }

    if (keyType !== typeField && !marker) {
      skipped.push({file, line, reason: `key type field ${typeField} does not match the key's own type ${keyType}`})
      continue
    }

    entries.push({
      file, key, keyType, line, marker, patterns,
    })
  }

  return {entries, skipped}
}

/** The name OpenSSH looks up in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/** The key type encoded at the start of an SSH public key blob, if the blob is well formed. */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined
  const length = blob.readUInt32BE(0)
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined
  const type = blob.subarray(4, 4 + length).toString('latin1')
  return /^[\w.@-]+$/.test(type) ? type : undefined
}

/** OpenSSH's SHA256 fingerprint of a public key blob: `SHA256:` + unpadded base64. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** A short human name of the key type, as ssh prints it (ED25519, ECDSA, RSA). */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519'
  if (keyType.startsWith('ecdsa-')) return 'ECDSA'
  if (keyType === 'ssh-rsa') return 'RSA'
  if (keyType === 'ssh-dss') return 'DSA'
  return keyType
}

/**
 * Does a hostname match an OpenSSH pattern-list (comma separated, `*`/`?` wildcards, `!` negation)?
 * As match_hostname(): a matching negated pattern rejects the line outright; otherwise any positive
 * match accepts it. Case-insensitive.
 */
export function matchPatternList(name: string, patternList: string): boolean {
  const subject = name.toLowerCase()
  let matched = false
  for (const raw of patternList.split(',')) {
    const negated = raw.startsWith('!')
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase()
    if (pattern === '') continue
    if (wildcardMatch(subject, pattern)) {
      if (negated) return false
      matched = true
    }
  }

  return matched
}

/** `*` any run of characters, `?` exactly one character; everything else literal. */
export function wildcardMatch(subject: string, pattern: string): boolean {
  // Iterative matcher with backtracking on the last `*` (linear in practice, no regex building).
  let s = 0
  let p = 0
  let starP = -1
  let starS = 0
  while (s < subject.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === subject[s])) {
      s++
      p++
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++
      starS = s
    } else if (starP === -1) {
      return false
    } else {
      p = starP + 1
      s = ++starS
    }
  }

  while (pattern[p] === '*') p++
  return p === pattern.length
}

/** Does an entry's host field match this known_hosts name (already `[host]:port` formatted)? */
export function entryMatches(entry: Pick<KnownHostsEntry, 'patterns'>, name: string): boolean {
  if (entry.patterns.startsWith('|')) return hashedMatch(entry.patterns, name)
  return matchPatternList(name, entry.patterns)
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`: one hashed name per line, no wildcards. */
export function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|')
  if (parts.length !== 4 || parts[1] !== '1') return false
  const salt = decodeBase64(parts[2] ?? '')
  const expected = decodeBase64(parts[3] ?? '')
  if (!salt || !expected || expected.length !== 20) return false
  const actual = createHmac('sha1', salt).update(name.toLowerCase()).digest()
  return actual.equals(expected)
}

/** Hash a name the way `ssh-keygen -H` / HashKnownHosts do. */
export function hashName(name: string, salt: Buffer = randomBytes(20)): string {
  const digest = createHmac('sha1', salt).update(name.toLowerCase()).digest()
  return `|1|${salt.toString('base64')}|${digest.toString('base64')}`
}

/** A known_hosts line for this host and key, as ssh itself would record it. */
export function formatKnownHostsLine(host: string, port: number, key: Buffer, options: {hash?: boolean} = {}): string {
  const type = keyTypeOf(key)
  if (!type) throw new Error('not an SSH public key blob')
  const name = knownHostsName(host, port)
  return `${options.hash ? hashName(name) : name} ${type} ${key.toString('base64')}`
}

/**
 * known: the presented key is listed for this host. revoked: it is listed as revoked. changed: keys
 * of the same type are listed for this host, but not this one. unknown: no key of this type is
 * listed; `otherTypes` are the keys of other types that are.
 */
export type HostKeyVerdict
  = {entry: KnownHostsEntry; status: 'known' | 'revoked'} | {expected: KnownHostsEntry[]; status: 'changed'} | {otherTypes: KnownHostsEntry[]; status: 'unknown'}

export interface HostKeyCheck {
  /** Lines marked cert-authority that match the host; ignored, since ssh2 cannot verify certificates. */
  certAuthorities: KnownHostsEntry[]
  verdict: HostKeyVerdict
}

/** What the entries say about `key` presented by `host` on `port` (check_key_in_hostkeys()). */
export function checkHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, key: Buffer): HostKeyCheck {
  const name = knownHostsName(host, port)
  const keyType = keyTypeOf(key)
  const certAuthorities: KnownHostsEntry[] = []
  const sameType: KnownHostsEntry[] = []
  const otherTypes: KnownHostsEntry[] = []
  let known: KnownHostsEntry | undefined
  for (const entry of entries) {
    if (!entryMatches(entry, name)) continue
    if (entry.marker === 'revoked') {
      if (entry.key.equals(key)) return {certAuthorities, verdict: {entry, status: 'revoked'}}
      continue
    }

    if (entry.marker === 'cert-authority') {
      certAuthorities.push(entry)
      continue
    }

    if (entry.key.equals(key)) known ??= entry
    else if (entry.keyType === keyType) sameType.push(entry)
    else otherTypes.push(entry)
  }

  // A revoked key anywhere in the files wins over an entry that lists it (OpenSSH checks revocation
  // first), so the loop above returns early; listed-and-not-revoked is accepted.
  if (known) return {certAuthorities, verdict: {entry: known, status: 'known'}}
  if (sameType.length > 0) return {certAuthorities, verdict: {expected: sameType, status: 'changed'}}
  return {certAuthorities, verdict: {otherTypes, status: 'unknown'}}
}

/** Key types listed (not revoked, not CA) for the host, in file order: ssh prefers these algorithms. */
export function knownKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port)
  const types: string[] = []
  for (const entry of entries) {
    if (entry.marker || types.includes(entry.keyType) || !entryMatches(entry, name)) continue
    types.push(entry.keyType)
  }

  return types
}

function decodeBase64(text: string): Buffer | undefined {
  if (!/^[\d+/A-Za-z]+={0,2}$/.test(text)) return undefined
  const buffer = Buffer.from(text, 'base64')
  return buffer.length > 0 ? buffer : undefined
}
