/**
 * A container's log as the node's runtime CLI prints it: the command (`crictl logs` or
 * `docker logs`, always with timestamps) and the parser of what it prints. The runtime writes the
 * container's stdout lines to its stdout and its stderr lines to its stderr; with timestamps on
 * every line, the two are merged back into the order the container wrote them (as `kubectl logs`
 * shows them), and a stderr line without one is the CLI's own message (a warning), not the
 * container's. Pure; running it is src/ops/logs.ts.
 */
import type {RuntimeName} from '../ops/containers.js'

export interface LogLine {
  stream: 'stderr' | 'stdout'
  text: string
  /** RFC 3339 with nanoseconds, as the runtime wrote it. */
  time?: string
}

export interface LogsArgvOptions {
  follow?: boolean
  /** crictl only: the instance before the current one (docker has its own container for it). */
  previous?: boolean
  sinceMs?: number
  tail?: number
}

/** `crictl logs -t ... ID` or `docker logs -t ... ID`. */
export function logsArgv(runtime: RuntimeName, id: string, options: LogsArgvOptions = {}): string[] {
  return [
    runtime,
    'logs',
    '--timestamps',
    ...(options.follow ? ['--follow'] : []),
    ...(options.previous && runtime === 'crictl' ? ['--previous'] : []),
    ...(options.tail === undefined ? [] : ['--tail', String(options.tail)]),
    // A Go duration back from now, by the node's clock (both CLIs take one).
    ...(options.sinceMs === undefined ? [] : ['--since', `${Math.max(1, Math.round(options.sinceMs))}ms`]),
    id,
  ]
}

/** crictl's warning on every call where no endpoint is configured (Fedora's layout): noise, not news. */
const DEFAULT_ENDPOINT_WARNING = /(?:runtime|image) connect using default endpoints/

/** Is a message of the runtime CLI worth showing? */
export function worthShowing(message: string): boolean {
  return message.trim() !== '' && !DEFAULT_ENDPOINT_WARNING.test(message)
}

const TIMESTAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?(.*)$/s

/** One printed line: the container's (with its time) or, on stderr without a time, the CLI's own. */
export function parseLogLine(raw: string, stream: LogLine['stream']): LogLine | {message: string} {
  const match = TIMESTAMPED.exec(raw)
  if (!match) return stream === 'stderr' ? {message: raw} : {stream, text: raw}
  return {stream, text: match[2]!, time: match[1]}
}

/** Nanoseconds since the epoch, for ordering (RFC 3339 times may differ in zone and fraction length). */
export function timeKey(time: string | undefined): bigint {
  if (!time) return 0n
  const match = /^(.*?:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time)
  if (!match) return 0n
  const seconds = Date.parse(`${match[1]}${match[3]}`)
  if (Number.isNaN(seconds)) return 0n
  return (BigInt(seconds) * 1_000_000n) + BigInt((match[2] ?? '').padEnd(9, '0').slice(0, 9))
}

/**
 * Both streams of a finished `logs -t` run as the container wrote them: lines in time order (a
 * stable merge: equal times keep stdout first), and the CLI's own stderr messages apart.
 */
export function parseLogOutput(stdout: string, stderr: string): {lines: LogLine[]; messages: string[]} {
  const messages: string[] = []
  const split = (text: string, stream: LogLine['stream']): LogLine[] => {
    const lines: LogLine[] = []
    const raws = text.split('\n')
    if (raws.at(-1) === '') raws.pop()
    for (const raw of raws) {
      const line = parseLogLine(raw, stream)
      if (!('message' in line)) lines.push(line)
      else if (worthShowing(line.message)) messages.push(line.message)
    }

    return lines
  }

  return {lines: mergeByTime([...split(stdout, 'stdout'), ...split(stderr, 'stderr')]), messages}
}

/** Lines in time order; a stable sort, so equal times keep the order they came in (a line without one goes with the line before it). */
export function mergeByTime(lines: readonly LogLine[]): LogLine[] {
  let last = 0n
  return lines
  .map((line, index) => {
    if (line.time) last = timeKey(line.time)
    return {index, key: last, line}
  })
  .sort((a, b) => (a.key === b.key ? a.index - b.index : (a.key < b.key ? -1 : 1)))
  .map(({line}) => line)
}
