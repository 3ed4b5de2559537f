/**
 * Environment files as systemd's EnvironmentFile= reads them (`parse_env_file_internal`,
 * src/basic/env-file.c): `KEY=value`, `KEY="…"`, `KEY='…'`, quoted parts glued together, `#`/`;`
 * comment lines, a backslash escaping the next character (a backslash-newline continues the value),
 * trailing whitespace of unquoted values dropped. Files: /etc/default/kubelet, /etc/sysconfig/kubelet,
 * /var/lib/kubelet/kubeadm-flags.env, Fedora's /etc/kubernetes/{config,kubelet}, kubespray's kubelet.env.
 *
 * Editing sets or removes one kubelet flag inside one variable's value and touches nothing else:
 * every other byte of the file (comments, order, quoting, the other flags) stays as it was.
 */
import {lookupFlag, normalizeFlag, parseArgs} from './flags.js'
import {quoteFlag, quoteWord, splitWords} from './words.js'

/** How a decoded character of a value was written. */
type Context = "'" | '"' | ''

export interface EnvAssignment {
  /** Per decoded character: raw start, raw end (escapes included) and quoting context. */
  chars: Array<{context: Context; end: number; start: number}>
  /**
   * `export KEY=…`: systemd does not understand `export` (it reads the name `export KEY`, which is
   * invalid, and ignores the line with a warning); shells do.
   */
  exported: boolean
  /** 1-based line of the name. */
  line: number
  name: string
  /** Per raw offset in [valueStart, valueEnd): the decoded index it produces, -1 for syntax. */
  owners: number[]
  /** Offset of the first character of the line's name (or of `export`). */
  start: number
  /** The value as systemd decodes it. */
  value: string
  /** Offset where the value ends (the newline or end of file). */
  valueEnd: number
  /** Offset just after `=`. */
  valueStart: number
}

export interface EnvFile {
  assignments: EnvAssignment[]
  text: string
  /** Lines that are neither assignments nor comments, `export` lines, invalid names. */
  warnings: string[]
}

const NEWLINE = '\n\r'
const WS = ' \t\n\r'
const NEED_ESCAPE_IN_DOUBLE = '"\\`$'
const NAME = /^[A-Z_a-z]\w*$/

/** Parse an environment file. Never throws. */
export function parseEnvFile(text: string): EnvFile {
  const assignments: EnvAssignment[] = []
  const warnings: string[] = []
  type State = 'comment' | 'commentEscape' | 'dq' | 'dqEscape' | 'key' | 'preKey' | 'preValue' | 'sq' | 'value' | 'valueEscape'
  let state: State = 'preKey'
  let line = 1
  let key = ''
  let keyStart = 0
  let keyLine = 1
  let valueStart = 0
  let value = ''
  let chars: EnvAssignment['chars'] = []
  let owners: number[] = []
  let lastWs = -1 // decoded index where trailing whitespace of an unquoted value starts
  let escapeAt = 0

  const push = (end: number): void => {
    let decoded = value
    let decodedChars = chars
    if (state === 'value' && lastWs !== -1) {
      decoded = value.slice(0, lastWs)
      decodedChars = chars.slice(0, lastWs)
      owners = owners.map(o => (o >= lastWs ? -1 : o))
    }

    let name = key.trim()
    let exported = false
    const m = /^export\s+(\S.*)$/.exec(name)
    if (m) {
      exported = true
      name = m[1]!
      warnings.push(`line ${keyLine}: "export ${name}=…" is ignored by systemd's EnvironmentFile= (only shells understand export)`)
    }

    if (NAME.test(name)) {
      assignments.push({
        chars: decodedChars, exported, line: keyLine, name, owners, start: keyStart, value: decoded, valueEnd: end, valueStart,
      })
    } else {
      warnings.push(`line ${keyLine}: invalid variable name "${name}", ignored`)
    }
  }

  const add = (c: string, start: number, end: number, context: Context): void => {
    for (let k = start; k < end; k++) owners[k - valueStart] = value.length
    chars.push({context, end, start})
    value += c
  }

  const step = (c: string, p: number): void => {
    const rel = p - valueStart
    switch (state) {
    case 'comment': {
      if (c === '\\') state = 'commentEscape'
      else if (NEWLINE.includes(c)) {
        state = 'preKey'
        line++
      }

      break
    }

    case 'commentEscape': {
      // Since systemd v254 a comment ending in a backslash no longer continues onto the next line.
      if (NEWLINE.includes(c)) line++
      state = NEWLINE.includes(c) ? 'preKey' : 'comment'
      break
    }

    case 'dq': {
      if (c === '"') {
        state = 'preValue'
        markSyntax(owners, rel, rel + 1)
      } else if (c === '\\') {
        state = 'dqEscape'
        escapeAt = p
      } else {
        if (c === '\n') line++
        add(c, p, p + 1, '"')
      }

      break
    }

    case 'dqEscape': {
      state = 'dq'
      if (NEED_ESCAPE_IN_DOUBLE.includes(c)) add(c, escapeAt, p + 1, '"')
      else if (c === '\n') {
        line++
        markSyntax(owners, escapeAt - valueStart, rel + 1)
      } else {
        // Like the shell: a backslash before any other character stays.
        add('\\', escapeAt, p, '"')
        add(c, p, p + 1, '"')
      }

      break
    }

    case 'key': {
      if (NEWLINE.includes(c)) {
        warnings.push(`line ${line}: no "=" in "${key.trim()}", ignored`)
        state = 'preKey'
        line++
      } else if (c === '=') {
        state = 'preValue'
        valueStart = p + 1
        value = ''
        chars = []
        owners = []
        lastWs = -1
      } else key += c
      break
    }

    case 'preKey': {
      if (c === '#' || c === ';') state = 'comment'
      else if (c === '\n') line++
      else if (!WS.includes(c)) {
        state = 'key'
        key = c
        keyStart = p
        keyLine = line
      }

      break
    }

    case 'preValue': {
      preValue(c, p)
      break
    }

    case 'sq': {
      if (c === "'") {
        state = 'preValue'
        markSyntax(owners, rel, rel + 1)
      } else {
        if (c === '\n') line++
        add(c, p, p + 1, "'")
      }

      break
    }

    case 'value': {
      if (NEWLINE.includes(c)) {
        push(p)
        state = 'preKey'
        line++
      } else if (c === '\\') {
        state = 'valueEscape'
        escapeAt = p
        lastWs = -1
      } else {
        if (!WS.includes(c)) lastWs = -1
        else if (lastWs === -1) lastWs = value.length
        add(c, p, p + 1, '')
      }

      break
    }

    case 'valueEscape': {
      state = 'value'
      if (NEWLINE.includes(c)) {
        line++
        markSyntax(owners, escapeAt - valueStart, rel + 1)
      } else add(c, escapeAt, p + 1, '')
      break
    }
    }
  }

  const preValue = (c: string, p: number): void => {
    const rel = p - valueStart
    if (NEWLINE.includes(c)) {
      push(p)
      state = 'preKey'
      line++
    } else if (c === "'" || c === '"') {
      state = c === '"' ? 'dq' : 'sq'
      markSyntax(owners, rel, rel + 1)
    } else if (c === '\\') {
      state = 'valueEscape'
      escapeAt = p
    } else if (WS.includes(c)) {
      markSyntax(owners, rel, rel + 1)
    } else {
      state = 'value'
      add(c, p, p + 1, '')
    }
  }

  let at = 0
  while (at < text.length) {
    step(text[at]!, at)
    at++
  }

  // (the closures above change `state`; TypeScript cannot see that)
  const final = state as State
  if (['dq', 'dqEscape', 'preValue', 'sq', 'value', 'valueEscape'].includes(final)) {
    if (final === 'dq' || final === 'sq') warnings.push(`line ${keyLine}: unterminated quote in ${key.trim()}`)
    push(text.length)
  }

  for (const a of assignments) {
    for (let k = 0; k < a.valueEnd - a.valueStart; k++) a.owners[k] ??= -1
  }

  return {assignments, text, warnings}
}

function markSyntax(owners: number[], from: number, to: number): void {
  for (let k = from; k < to; k++) owners[k] = -1
}

/**
 * The variables systemd gets from the file: last assignment wins; `export` lines are skipped, as
 * systemd skips them.
 */
export function envFileValues(file: EnvFile): Map<string, string> {
  const out = new Map<string, string>()
  for (const a of file.assignments) if (!a.exported) out.set(a.name, a.value)
  return out
}

/** The assignment systemd uses for `name` (the last one, `export` lines skipped). */
export function findAssignment(file: EnvFile, name: string): EnvAssignment | undefined {
  return file.assignments.findLast(a => a.name === name && !a.exported)
}

/** One change to the flags inside a variable. */
export interface FlagChange {
  flag: string
  /** The values to write, one flag occurrence each; undefined or [] removes every occurrence. */
  values?: string[]
}

/** A replacement in the decoded value: [from, to) becomes `text` (text as the word splitter reads it). */
interface Span {
  from: number
  text: string
  to: number
}

/**
 * Set or remove kubelet flags inside the value of `variable` (the assignment systemd uses). Only
 * the bytes of the changed flags move; the variable's quoting is kept. An unquoted value that would
 * need whitespace is put in double quotes (a shell sourcing the file would break otherwise). When the
 * variable is missing, `VARIABLE="--flag=value"` is appended. `text` undefined: the file does not exist.
 * Flags are matched by name whatever their spelling (`--pod_manifest_path` is `--pod-manifest-path`).
 */
export function editEnvFileFlags(text: string | undefined, variable: string, changes: FlagChange[]): string {
  const source = text ?? ''
  const file = parseEnvFile(source)
  const assignment = findAssignment(file, variable)
  if (!assignment) {
    const words = changes.flatMap(ch => (ch.values ?? []).map(v => renderFlagWord(ch.flag, v)))
    if (words.length === 0) return source
    const sep = source === '' || source.endsWith('\n') ? '' : '\n'
    return `${source}${sep}${variable}=${renderValue(words.join(' '), '"')}\n`
  }

  const edited = editValue(source, assignment, changes)
  if (edited === undefined) return source
  return source.slice(0, assignment.valueStart) + edited + source.slice(assignment.valueEnd)
}

/** The new raw text of the value, or undefined when nothing changes. */
function editValue(source: string, a: EnvAssignment, changes: FlagChange[]): string | undefined {
  const {words} = splitWords(a.value, {relax: true})
  const args = parseArgs(words.map(w => w.text))
  const spans: Span[] = []
  const removed = new Set<number>()
  const appended: string[] = []
  for (const change of changes) {
    const name = lookupFlag(change.flag)?.flag ?? normalizeFlag(change.flag)
    const occurrences = args.filter(arg => arg.name === name)
    const values = change.values ?? []
    for (const [k, occ] of occurrences.entries()) {
      const value = values[k]
      if (value === undefined) {
        for (let w = occ.index; w < occ.index + occ.count; w++) removed.add(w)
      } else if (occ.value !== value) {
        spans.push(replaceValueSpan(a.value, words, occ, value))
      }
    }

    for (const value of values.slice(occurrences.length)) appended.push(renderFlagWord(name, value))
  }

  if (spans.length === 0 && removed.size === 0 && appended.length === 0) return undefined

  // A removed word takes the whitespace before it (after it, when no kept word precedes it).
  const kept = words.map((_, k) => !removed.has(k))
  for (const k of removed) {
    const w = words[k]!
    let prev = k - 1
    while (prev >= 0 && !kept[prev]) prev--
    if (prev === -1) {
      const next = kept.indexOf(true, k + 1)
      spans.push({from: w.start, text: '', to: next === -1 ? w.end : words[next]!.start})
    } else spans.push({from: words[prev]!.end, text: '', to: w.end})
  }

  const merged = mergeSpans(spans)
  if (appended.length > 0) {
    const lastKept = kept.lastIndexOf(true)
    const at = lastKept === -1 ? a.value.length : words[lastKept]!.end
    merged.push({from: at, text: (lastKept === -1 ? '' : ' ') + appended.join(' '), to: at})
  }

  const patched = patchRaw(source, a, merged)
  if (patched !== undefined) return patched
  // The edit cannot be written in place (quoting contexts meet, or an unquoted value needs a space):
  // render the whole value again, in double quotes unless it was single-quoted and still can be.
  const decoded = applySpans(a.value, merged)
  const quote = a.chars[0]?.context === "'" && !decoded.includes("'") ? "'" : '"'
  return renderValue(decoded, quote)
}

function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((x, y) => x.from - y.from || x.to - y.to)
  const out: Span[] = []
  for (const s of sorted) {
    const last = out.at(-1)
    if (last && s.from < last.to) {
      last.to = Math.max(last.to, s.to)
      last.text += s.text
    } else out.push({...s})
  }

  return out
}

function applySpans(text: string, spans: Span[]): string {
  let out = ''
  let at = 0
  for (const s of [...spans].sort((x, y) => x.from - y.from)) {
    out += text.slice(at, s.from) + s.text
    at = s.to
  }

  return out + text.slice(at)
}

/**
 * Write decoded-space spans into the raw value, provided every raw character they cover is the
 * writing of a decoded character (no quote delimiters in between) of one quoting context, and the
 * new text can be written in that context. Undefined otherwise.
 */
function patchRaw(source: string, a: EnvAssignment, spans: Span[]): string | undefined {
  const raw = source.slice(a.valueStart, a.valueEnd)
  const rawSpans: Span[] = []
  for (const s of spans) {
    let from: number
    let to: number
    let context: Context
    if (s.from < s.to) {
      const first = a.chars[s.from]!
      const last = a.chars[s.to - 1]!
      from = first.start - a.valueStart
      to = last.end - a.valueStart
      context = first.context
      for (let k = s.from; k < s.to; k++) if (a.chars[k]!.context !== context) return undefined
      // Syntax inside the span: a removal may take escaped newlines along, never a quote delimiter.
      for (let r = from; r < to; r++) {
        if (a.owners[r] === -1 && (s.text !== '' || raw[r] === '"' || raw[r] === "'")) return undefined
      }
    } else if (s.from > 0) {
      const prev = a.chars[s.from - 1]!
      from = prev.end - a.valueStart
      to = from
      context = prev.context
    } else if (a.chars.length > 0) {
      from = a.chars[0]!.start - a.valueStart
      to = from
      context = a.chars[0]!.context
    } else {
      const m = /^\s*(["'])\1/.exec(raw)
      if (!m) return undefined
      from = m[0].length - 1
      to = from
      context = m[1] as Context
    }

    const text = encodeFor(s.text, context)
    if (text === undefined) return undefined
    rawSpans.push({from, text, to})
  }

  return applySpans(raw, rawSpans)
}

/** Text as systemd must read it back in a quoting context; undefined when it cannot be written there. */
function encodeFor(text: string, context: Context): string | undefined {
  if (context === '"') return text.replaceAll(/["$\\`]/g, ch => '\\' + ch)
  if (context === "'") {
    if (!text.includes("'")) return text
    // Quote the words inside with double quotes instead, if that is all it takes.
    const lead = /^\s*/.exec(text)![0]
    const requoted = lead + splitWords(text, {relax: true}).words.map(w => quoteWord(w.text, '"')).join(' ')
    return requoted.includes("'") ? undefined : requoted
  }

  if (/\s/.test(text)) return undefined
  return text.replaceAll(/["'\\]/g, ch => '\\' + ch)
}

/** Replace the value part of one flag occurrence, in decoded space. */
function replaceValueSpan(
  decoded: string,
  words: Array<{end: number; start: number}>,
  occ: {count: number; index: number},
  value: string,
): Span {
  if (occ.count === 2) {
    const w = words[occ.index + 1]!
    return {from: w.start, text: quoteWord(value), to: w.end}
  }

  const w = words[occ.index]!
  const written = decoded.slice(w.start, w.end)
  const eq = written.indexOf('=')
  if (eq !== -1 && !/["'\\]/.test(written.slice(0, eq))) {
    return {from: w.start + eq + 1, text: value === '' ? "''" : quoteWord(value), to: w.end}
  }

  const prefix = /^[^=]*/.exec(written)![0]
  return {from: w.start, text: quoteFlag(`${prefix}=`, value), to: w.end}
}

function renderFlagWord(flag: string, value: string): string {
  const name = lookupFlag(flag)?.flag ?? normalizeFlag(flag)
  return quoteFlag(`--${name}=`, value)
}

/** A whole value in `quote` (its text as the word splitter reads it). */
function renderValue(decoded: string, quote: "'" | '"'): string {
  if (quote === "'") return `'${decoded}'`
  return `"${decoded.replaceAll(/["$\\`]/g, ch => '\\' + ch)}"`
}
