// `journalctl` on a sandbox node, over the node's journal: -u UNIT, -t IDENT, -n N, -f, -o short|short-iso|cat|json,
// -r, --since/--until, -p, --no-pager, -x, -e, -b, -q, --no-hostname.
import {hostname} from 'node:os'

import {sleep} from '../../shared/util.js'
import {
  formatJson, formatShort, formatShortIso, type JournalEntry, readJournal,
} from '../journal.js'
import {
  all, Exit, getopt, has, isRoot, last, type Output,
} from './common.js'

const PRIORITIES: Record<string, number> = {
  alert: 1, crit: 2, debug: 7, emerg: 0, err: 3, info: 6, notice: 5, warning: 4,
}

/** journalctl's time specifications: "2026-11-29 22:01:33", "-5min", "5 min ago", "today", "yesterday", "now". */
export function parseTimeSpec(spec: string, now = Date.now()): number {
  const units: Record<string, number> = {
    d: 86_400_000, day: 86_400_000, days: 86_400_000, h: 3_600_000, hour: 3_600_000, hours: 3_600_000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, ms: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000,
  }
  const relative = /^([+-])?\s*(\d+)\s*([a-z]+)(\s+ago)?$/.exec(spec.trim())
  if (relative) {
    const amount = Number(relative[2]) * (units[relative[3]!] ?? Number.NaN)
    if (!Number.isNaN(amount)) return relative[1] === '+' ? now + amount : now - amount
  }

  const midnight = new Date(now)
  midnight.setHours(0, 0, 0, 0)
  if (spec === 'now') return now
  if (spec === 'today') return midnight.getTime()
  if (spec === 'yesterday') return midnight.getTime() - 86_400_000
  if (spec === 'tomorrow') return midnight.getTime() + 86_400_000
  const absolute = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(spec.trim())
  if (absolute) {
    const [, y, mo, d, h, mi, s] = absolute
    return new Date(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)).getTime()
  }

  const timeOnly = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(spec.trim())
  if (timeOnly) {
    const d = new Date(now)
    d.setHours(Number(timeOnly[1]), Number(timeOnly[2]), Number(timeOnly[3] ?? 0), 0)
    return d.getTime()
  }

  throw new Exit(1, `Failed to parse timestamp: ${spec}\n`)
}

export async function journalctl(argv: string[], io: Output): Promise<number> {
  const args = getopt(argv, {values: ['unit', 'u', 'lines', 'n', 'output', 'o', 'since', 'S', 'until', 'U', 'identifier', 't', 'priority', 'p']}, {
    b: 'boot',
    e: 'pager-end',
    f: 'follow',
    n: 'lines',
    o: 'output',
    p: 'priority',
    q: 'quiet',
    r: 'reverse',
    S: 'since',
    t: 'identifier',
    U: 'until',
    u: 'unit',
    x: 'catalog',
  })
  if (!isRoot()) {
    if (!has(args, 'quiet')) {
      io.err("Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.\n      Pass -q to turn off this notice.\n")
    }

    io.out('-- No entries --\n')
    return 0
  }

  const units = all(args, 'unit').map(unit => (unit.includes('.') ? unit : `${unit}.service`))
  const identifiers = all(args, 'identifier')
  const since = last(args, 'since')
  const until = last(args, 'until')
  const priority = last(args, 'priority')
  const maxPriority = priority === undefined ? 7 : (PRIORITIES[priority] ?? Number(priority))
  const filter = (entry: JournalEntry) =>
    (units.length === 0 || (entry.unit !== undefined && units.includes(entry.unit)))
    && (identifiers.length === 0 || identifiers.includes(entry.ident))
    && (since === undefined || entry.ts / 1000 >= parseTimeSpec(since))
    && (until === undefined || entry.ts / 1000 <= parseTimeSpec(until))
    && entry.pri <= maxPriority
  const output = last(args, 'output') ?? 'short'
  const host = hostname()
  const render = (entry: JournalEntry) => {
    if (output === 'cat') return entry.msg
    if (output === 'json') return formatJson(entry, host)
    if (output === 'short-iso') return formatShortIso(entry, host)
    const line = formatShort(entry, host)
    return has(args, 'no-hostname') ? line.replace(` ${host} `, ' ') : line
  }

  const allEntries = readJournal()
  let entries = allEntries.filter(entry => filter(entry))
  const linesOption = last(args, 'lines')
  const follow = has(args, 'follow')
  const lines = linesOption === undefined ? (follow || has(args, 'pager-end') ? 10 : undefined) : (linesOption === 'all' ? undefined : Number(linesOption))
  if (lines !== undefined) entries = lines === 0 ? [] : entries.slice(-lines)
  if (has(args, 'reverse')) entries.reverse()
  if (entries.length === 0 && !follow) {
    if (!has(args, 'quiet')) io.out('-- No entries --\n')
    return 0
  }

  io.out(entries.map(entry => `${render(entry)}\n`).join(''))
  if (!follow) return 0
  let seen = allEntries.length
  for (;;) {
    // eslint-disable-next-line no-await-in-loop
    await sleep(200)
    const now = readJournal()
    const fresh = now.slice(seen).filter(entry => filter(entry))
    seen = now.length
    if (fresh.length > 0) io.out(fresh.map(entry => `${render(entry)}\n`).join(''))
  }
}
