// Reading CRI log files (`<RFC3339Nano> <stream> <P|F> <text>` lines), for `crictl logs` and `docker logs`.
import {
  closeSync, existsSync, openSync, readFileSync, readSync, statSync,
} from 'node:fs'

import type {Output} from './common.js'

import {parseGoDuration, sleep} from '../../shared/util.js'

export interface LogLine {
  stream: 'stderr' | 'stdout'
  text: string
  time: string
}

export function parseCriLog(text: string): LogLine[] {
  const lines: LogLine[] = []
  let partial = ''
  for (const raw of text.split('\n')) {
    if (raw === '') continue
    const match = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/.exec(raw)
    if (!match) continue
    const [, time, stream, tag, body] = match as unknown as [string, string, 'stderr' | 'stdout', string, string]
    if (tag === 'P') {
      partial += body
      continue
    }

    lines.push({stream, text: partial + body, time})
    partial = ''
  }

  return lines
}

/**
 * `--since` of `crictl logs` and `docker logs` (docker's timetypes.GetTimestamp): a Go duration back from now
 * ("42m", "1h30m", "1500ms"), an RFC 3339 time, or Unix seconds. Milliseconds since the epoch.
 */
export function parseSince(value: string, now = Date.now()): number {
  try {
    return now - parseGoDuration(value)
  } catch {
    if (/^\d+(?:\.\d+)?$/.test(value)) return Number(value) * 1000
    const time = Date.parse(value)
    if (Number.isNaN(time)) throw new Error(`failed to parse value ${JSON.stringify(value)} as a timestamp or duration`)
    return time
  }
}

export interface LogOptions {
  follow?: () => boolean | Promise<boolean>
  since?: number
  tail?: number
  timestamps?: boolean
}

function emit(io: Output, lines: LogLine[], timestamps: boolean): void {
  for (const line of lines) {
    const text = `${timestamps ? `${line.time} ` : ''}${line.text}\n`
    if (line.stream === 'stderr') io.err(text)
    else io.out(text)
  }
}

/** Prints a log file (the last `tail` lines), then, while `follow()` says so, what is appended to it. */
export async function printLog(file: string, io: Output, options: LogOptions): Promise<void> {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
  let lines = parseCriLog(text)
  if (options.since !== undefined) lines = lines.filter(line => Date.parse(line.time) >= options.since!)
  if (options.tail !== undefined && options.tail >= 0) lines = options.tail === 0 ? [] : lines.slice(-options.tail)
  emit(io, lines, options.timestamps ?? false)
  if (!options.follow) return
  let offset = Buffer.byteLength(text)
  let carry = ''
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    const keepGoing = await options.follow()
    const size = existsSync(file) ? statSync(file).size : 0
    if (size > offset) {
      const fd = openSync(file, 'r')
      const buffer = Buffer.alloc(size - offset)
      readSync(fd, buffer, 0, buffer.length, offset)
      closeSync(fd)
      offset = size
      const chunk = carry + buffer.toString('utf8')
      const end = chunk.lastIndexOf('\n')
      carry = chunk.slice(end + 1)
      emit(io, parseCriLog(chunk.slice(0, end + 1)), options.timestamps ?? false)
    }

    if (!keepGoing) return
    // eslint-disable-next-line no-await-in-loop
    await sleep(200)
  }
}
