// klog text format, as the kubelet writes it to stderr (and journald stores it):
//   E1129 21:56:01.123456    1234 file.go:187] "Could not process manifest file" err="..." path="/etc/..."
// Structured values are quoted like Go's strconv.Quote (JSON quoting is the same for ASCII text).

export type Severity = 'E' | 'I' | 'W'

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** Microseconds since the epoch, monotonic within the process. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000)
}

/** The klog header of a line logged now: `Lmmdd hh:mm:ss.uuuuuu pid file:line] `. */
export function klogHeader(severity: Severity, source: string, epochMicros = nowMicros(), pid = process.pid): string {
  const now = new Date(Math.floor(epochMicros / 1000))
  const micros = String(epochMicros % 1_000_000).padStart(6, '0')
  return (
    `${severity}${pad(now.getMonth() + 1)}${pad(now.getDate())} `
    + `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${micros} `
    + `${String(pid).padStart(7, ' ')} ${source}] `
  )
}

export function quote(value: string): string {
  return JSON.stringify(value)
}

/** Go's %+v of a value decoded from JSON: map[k:v], [a b]. */
function goValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(v => goValue(v)).join(' ')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0)))
    return `map[${entries.map(([k, v]) => `${k}:${goValue(v)}`).join(' ')}]`
  }

  return String(value)
}

/** klog's text rendering of a structured value: strings and errors quoted, string slices as JSON, the rest as %+v. */
function renderValue(value: unknown): string {
  if (typeof value === 'string') return quote(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value instanceof Error) return quote(value.message)
  if (value === undefined || value === null) return '<nil>'
  if (Array.isArray(value) && value.every(v => typeof v === 'string')) return JSON.stringify(value)
  return goValue(value)
}

/** `"msg" k1=v1 k2=v2` — klog's structured (InfoS/ErrorS) form; keys and values alternate, in call order. */
export function structured(message: string, keysAndValues: unknown[] = []): string {
  const pairs: string[] = []
  for (let i = 0; i + 1 < keysAndValues.length; i += 2) pairs.push(`${String(keysAndValues[i])}=${renderValue(keysAndValues[i + 1])}`)
  return [quote(message), ...pairs].join(' ')
}

export interface Logger {
  error(source: string, message: string, ...keysAndValues: unknown[]): void
  info(source: string, message: string, ...keysAndValues: unknown[]): void
  warning(source: string, message: string, ...keysAndValues: unknown[]): void
}

/** A logger writing klog lines to a stream (the kubelet's stderr, which the systemd stand-in puts in the journal). */
export function klogTo(write: (line: string) => void): Logger {
  const log
    = (severity: Severity) =>
      (source: string, message: string, ...keysAndValues: unknown[]) =>
        write(`${klogHeader(severity, source)}${structured(message, keysAndValues)}\n`)
  return {error: log('E'), info: log('I'), warning: log('W')}
}
