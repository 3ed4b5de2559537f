// Small helpers shared by the node-side programs and the API server stand-in.
import {createHash, randomBytes} from 'node:crypto'

/* eslint-disable no-bitwise -- FNV-1a and UUID version bits are bit operations */
const FNV128_OFFSET = 0x6C_62_27_2E_07_BB_01_42_62_B8_21_75_62_95_C5_8Dn
const FNV128_PRIME = 0x00_00_00_00_01_00_00_00_00_00_00_00_00_00_01_3Bn
const MASK128 = (1n << 128n) - 1n

/** FNV-1a, 128 bits, as hex (32 characters): the hash the kubelet uses for a static pod's UID. */
export function fnv128a(data: Buffer | string): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  let hash = FNV128_OFFSET
  for (const byte of bytes) {
    hash ^= BigInt(byte)
    hash = (hash * FNV128_PRIME) & MASK128
  }

  return hash.toString(16).padStart(32, '0')
}

/** JSON with object keys sorted at every level: a stable dump of a decoded object. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(item => canonicalJson(item)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0)))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }

  return JSON.stringify(value) ?? 'null'
}

/** 64 hex characters, like a containerd or docker id. */
export function randomId(): string {
  return randomBytes(32).toString('hex')
}

export function uuid(): string {
  const b = randomBytes(16)
  b[6] = (b[6]! & 0x0F) | 0x40
  b[8] = (b[8]! & 0x3F) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
/* eslint-enable no-bitwise */

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints UTC times (trailing zeros dropped). */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n)
  const base = new Date(ms).toISOString().slice(0, 19)
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  return `${base}${frac ? `.${frac}` : ''}Z`
}

/** RFC 3339 to the second (metav1.Time). */
export function rfc3339(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function nowNs(): bigint {
  return (BigInt(Date.now()) * 1_000_000n) + (process.hrtime.bigint() % 1_000_000n)
}

const DURATION_UNITS: Record<string, number> = {
  h: 3_600_000, m: 60_000, ms: 1, ns: 1e-6, s: 1000, us: 1e-3, µs: 1e-3,
}

/** Go's time.ParseDuration, in milliseconds; throws Go's message on a bad value. */
export function parseGoDuration(text: string): number {
  const bad = () => new Error(`time: invalid duration ${JSON.stringify(text)}`)
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1
    rest = rest.slice(1)
  }

  if (rest === '0') return 0
  if (rest === '' || !/^[\d.]/.test(rest)) throw bad()
  let total = 0
  while (rest !== '') {
    const match = /^(\d*\.?\d*)(ns|us|µs|ms|s|m|h)/.exec(rest)
    if (!match || match[1] === '' || match[1] === '.') {
      if (/^\d*\.?\d*$/.test(rest)) throw new Error(`time: missing unit in duration ${JSON.stringify(text)}`)
      if (/^\d*\.?\d*[a-zA-Zµ]+/.test(rest)) {
        const unit = /^\d*\.?\d*([a-zA-Zµ]+)/.exec(rest)![1]
        throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`)
      }

      throw bad()
    }

    total += Number(match[1]) * DURATION_UNITS[match[2]!]!
    rest = rest.slice(match[0].length)
  }

  return sign * total
}

/** A duration as Go's Duration.String() prints it (1m30s, 500ms, 20s, 0s). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  let seconds = ms / 1000
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  const s = `${Number(seconds.toFixed(9))}s`
  if (hours > 0) return `${hours}h${minutes}m${s}`
  if (minutes > 0) return `${minutes}m${s}`
  return s
}

/** kubectl's short human duration (HumanDuration): 5s, 2m3s, 10m, 3h, 2d5h, 400d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 0) return '0s'
  if (seconds < 60 * 2) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }

  if (minutes < 60 * 3) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }

  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    const days = Math.floor(hours / 24)
    return h === 0 ? `${days}d` : `${days}d${h}h`
  }

  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24)
    const years = Math.floor(days / 365)
    const d = days % 365
    return d === 0 ? `${years}y` : `${years}y${d}d`
  }

  return `${Math.floor(hours / 24 / 365)}y`
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => {
    setTimeout(resolve, ms)
  })
}

/** A YAML syntax error of the `yaml` package, worded as go-yaml words the common cases (`yaml: line N: ...`). */
export function goYamlError(error: {code: string; linePos?: [{col: number; line: number}, ...unknown[]]; message: string}): string {
  const messages: Record<string, string> = {
    BAD_DQ_ESCAPE: 'found unknown escape character',
    BAD_INDENT: 'did not find expected key',
    BLOCK_AS_IMPLICIT_KEY: 'mapping values are not allowed in this context',
    MULTILINE_IMPLICIT_KEY: 'could not find expected \':\'',
    TAB_AS_INDENT: 'found character that cannot start any token',
    UNEXPECTED_TOKEN: 'did not find expected key',
  }
  let text = messages[error.code]
  if (!text && error.code === 'MISSING_CHAR') {
    text = error.message.includes(']') ? "did not find expected ',' or ']'" : (error.message.includes('}') ? "did not find expected ',' or '}'" : 'did not find expected node content')
  }

  text ??= error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
  const line = error.linePos?.[0].line
  return `yaml: ${line ? `line ${line}: ` : ''}${text}`
}

/** Runs a promise in the background; a rejection (a bug: callers handle their errors) is reported on stderr. */
export function background(promise: Promise<unknown>): void {
  promise.catch((error: unknown) => {
    process.stderr.write(`unexpected: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  })
}

/** The pod's QoS class, as the API server and the kubelet compute it from the containers' requests and limits. */
export function qosClass(spec: Record<string, unknown>): string {
  const containers = [...((spec.containers as Array<Record<string, unknown>> | undefined) ?? []), ...((spec.initContainers as Array<Record<string, unknown>> | undefined) ?? [])]
  let any = false
  let guaranteed = true
  for (const c of containers) {
    const resources = (c.resources ?? {}) as Record<string, unknown>
    const requests = (resources.requests ?? {}) as Record<string, unknown>
    const limits = (resources.limits ?? {}) as Record<string, unknown>
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true
    for (const r of ['cpu', 'memory']) if (limits[r] === undefined || requests[r] !== limits[r]) guaranteed = false
  }

  if (!any) return 'BestEffort'
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

/** Signals a process group (its leader started it); the leader alone when there is no group, unless `groupOnly` (once the leader is reaped). */
export function killGroup(pid: number, signal: NodeJS.Signals, groupOnly = false): void {
  if (pid <= 0) return
  try {
    process.kill(-pid, signal)
  } catch {
    if (groupOnly) return
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}
