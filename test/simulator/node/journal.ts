// The node's journal. The systemd stand-in is its only writer: its own messages about units (as systemd[1])
// and every line a service writes to stdout/stderr (as <ident>[<pid>]), exactly as journald records them.
import {appendFileSync, mkdirSync, readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {JOURNAL_FILE} from './paths.js'

export interface JournalEntry {
  /** SYSLOG_IDENTIFIER: `systemd`, `kubelet`, `(kubelet)`, `containerd`. */
  ident: string
  msg: string
  pid: number
  /** Syslog priority: 3 err, 4 warning, 6 info. */
  pri: number
  /** Microseconds since the epoch (__REALTIME_TIMESTAMP). */
  ts: number
  /** _SYSTEMD_UNIT / UNIT: the unit the entry is about. */
  unit?: string
}

export class Journal {
  constructor(private readonly file = JOURNAL_FILE) {
    mkdirSync(path.dirname(file), {recursive: true})
  }

  write(entry: Omit<JournalEntry, 'ts'> & {ts?: number}): void {
    const full: JournalEntry = {...entry, ts: entry.ts ?? Date.now() * 1000}
    appendFileSync(this.file, `${JSON.stringify(full)}\n`, {mode: 0o640})
  }
}

export function readJournal(file = JOURNAL_FILE): JournalEntry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }

  const entries: JournalEntry[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    try {
      entries.push(JSON.parse(line) as JournalEntry)
    } catch {
      // a line being written right now
    }
  }

  return entries
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number) => String(n).padStart(2, '0')

/** journalctl's default `short` output: `Nov 29 22:01:33 node1 kubelet[1234]: message`. */
export function formatShort(entry: JournalEntry, host = hostname()): string {
  const d = new Date(entry.ts / 1000)
  const time = `${MONTHS[d.getMonth()]} ${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  return `${time} ${host} ${entry.ident}[${entry.pid}]: ${entry.msg}`
}

/** `short-iso`: `2026-11-29T22:01:33+00:00 node1 kubelet[1234]: message`. */
export function formatShortIso(entry: JournalEntry, host = hostname()): string {
  const d = new Date(entry.ts / 1000)
  const offset = -d.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const tz = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
  const time = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${tz}`
  return `${time} ${host} ${entry.ident}[${entry.pid}]: ${entry.msg}`
}

/** `-o json`: one object per line with journald's field names (all values strings). */
export function formatJson(entry: JournalEntry, host = hostname()): string {
  return JSON.stringify({
    __REALTIME_TIMESTAMP: String(entry.ts),
    _HOSTNAME: host,
    _PID: String(entry.pid),
    ...(entry.unit ? {_SYSTEMD_UNIT: entry.unit} : {}),
    MESSAGE: entry.msg,
    PRIORITY: String(entry.pri),
    SYSLOG_IDENTIFIER: entry.ident.replace(/^\((.*)\)$/, '$1'),
  })
}
