// klog text format, as the kubelet writes it to stderr (and journald stores it):
//   E1129 21:56:01.123456    1234 file.go:187] "Could not process manifest file" err="..." path="/etc/..."
// Structured values are quoted like Go's strconv.Quote (JSON quoting is the same for ASCII text).

export type Severity = 'E' | 'I' | 'W'

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** The klog header of a line logged now: `Lmmdd hh:mm:ss.uuuuuu pid file:line] `. */
export function klogHeader(severity: Severity, source: string, now = new Date(), pid = process.pid): string {
  const micros = pad(now.getMilliseconds(), 3) + String(Math.floor(Math.random() * 1000)).padStart(3, '0')
  return (
    `${severity}${pad(now.getMonth() + 1)}${pad(now.getDate())} `
    + `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${micros} `
    + `${String(pid).padStart(7, ' ')} ${source}] `
  )
}

export function quote(value: string): string {
  return JSON.stringify(value)
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return quote(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value instanceof Error) return quote(value.message)
  if (value === undefined || value === null) return '<nil>'
  return quote(JSON.stringify(value))
}

/** `"msg" k1=v1 k2=v2` — klog's structured (InfoS/ErrorS) form. */
export function structured(message: string, keysAndValues: Record<string, unknown> = {}): string {
  const pairs = Object.entries(keysAndValues).map(([key, value]) => `${key}=${renderValue(value)}`)
  return [quote(message), ...pairs].join(' ')
}

export interface Logger {
  error(source: string, message: string, keysAndValues?: Record<string, unknown>): void
  info(source: string, message: string, keysAndValues?: Record<string, unknown>): void
  warning(source: string, message: string, keysAndValues?: Record<string, unknown>): void
}

/** A logger writing klog lines to a stream (the kubelet's stderr, which the systemd stand-in puts in the journal). */
export function klogTo(write: (line: string) => void): Logger {
  const log = (severity: Severity) => (source: string, message: string, keysAndValues?: Record<string, unknown>) =>
    write(`${klogHeader(severity, source)}${structured(message, keysAndValues)}\n`)
  return {error: log('E'), info: log('I'), warning: log('W')}
}
