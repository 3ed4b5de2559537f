/**
 * The kubelet's own words about a static pod or its manifest file, from its log: lines of
 * `journalctl -u kubelet -o short-iso` (or `-o short`), or klog lines as a log file holds them.
 * Pure: reading the log is src/ops/kubelet-log.ts.
 *
 * A klog line is `Lmmdd hh:mm:ss.uuuuuu PID file.go:NNN] MESSAGE`; since v1.21 the message of most
 * lines is structured, `"text" key=value ...`, values quoted like Go's strconv.Quote, lists in
 * brackets (`pods=[ns/a ns/b]`). Why the kubelet skipped a manifest is logged by its file source
 * (kubelet-facts §1.1, §1.4): `"Could not process manifest file" err=... path=...` at every relist,
 * `"Unable to process watch event" err="can't process config file \"F\": ..."` on inotify events.
 */

export interface KubeletLine {
  /** The structured values (`err`, `path`, `pod` ...), unquoted; empty for unstructured lines. */
  fields: Record<string, string>
  /** The message text: the quoted part of a structured line, else the text after `] `. */
  message: string
  /** The line as read. */
  raw: string
  /** klog severity letter. */
  severity?: 'E' | 'F' | 'I' | 'W'
  /** klog's `file.go:NNN`. */
  source?: string
  /** The journal's timestamp (`2026-11-30T00:22:02+00:00`, or `Nov 30 00:22:02`), else klog's (`1130 00:22:02.123456`). */
  time?: string
}

/** What a line should be about: a manifest file (full path on the node) and/or a pod. */
export interface KubeletAbout {
  /** The manifest file, as the kubelet names it (`<manifest dir>/<file>`). */
  file?: string
  /** The pod's namespace (with `pod`, matches `ns/name` references). */
  namespace?: string
  /** The pod as the kubelet names it: the mirror name `<pod>-<node name>`. */
  pod?: string
  /** The pod's UID (for a static pod, its config hash). */
  uid?: string
}

// `2026-11-30T00:22:02+00:00 host ident[pid]: ` or `2026-11-30T00:22:02+0000 ...` (short-iso),
// `Nov 30 00:22:02 host ident[pid]: ` (short).
const JOURNAL_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) \S+ [^\s:[]+(?:\[\d+\])?: /
const KLOG_HEADER = /^([EFIW])(\d{4} \d{2}:\d{2}:\d{2}\.\d+)\s+\d+ ([^\s\]]+)\] /

/** Parse one log line; a line that is not klog keeps its text as the message. */
export function parseKubeletLine(raw: string): KubeletLine {
  let rest = raw
  let time: string | undefined
  const journal = JOURNAL_PREFIX.exec(rest)
  if (journal) {
    time = journal[1]
    rest = rest.slice(journal[0].length)
  }

  const klog = KLOG_HEADER.exec(rest)
  const plain: KubeletLine = {
    fields: {}, message: rest, raw, time,
  }
  if (!klog) return plain

  const body = rest.slice(klog[0].length)
  const line: KubeletLine = {
    fields: {}, message: body, raw, severity: klog[1] as KubeletLine['severity'], source: klog[3], time: time ?? klog[2],
  }
  if (!body.startsWith('"')) return line
  const message = readQuoted(body, 0)
  if (!message) return line
  line.message = message.value
  line.fields = readFields(body, message.end)
  return line
}

/** key=value pairs after a structured message; stops quietly at anything it does not understand. */
function readFields(text: string, from: number): Record<string, string> {
  const fields: Record<string, string> = {}
  let i = from
  for (;;) {
    while (text[i] === ' ') i++
    const key = /^([\w.-]+)=/.exec(text.slice(i))
    if (!key) return fields
    i += key[0].length
    const value = text[i] === '"' ? readQuoted(text, i) : readBare(text, i)
    if (!value) return fields
    fields[key[1]!] = value.value
    i = value.end
  }
}

/** A value up to the next space outside brackets/braces: `[ns/a ns/b]`, `&{...}`, `123`, `<nil>`. */
function readBare(text: string, from: number): {end: number; value: string} {
  let depth = 0
  let i = from
  for (; i < text.length; i++) {
    const c = text[i]!
    if (c === '[' || c === '{') depth++
    else if ((c === ']' || c === '}') && depth > 0) depth--
    else if (c === ' ' && depth === 0) break
  }

  return {end: i, value: text.slice(from, i)}
}

const ESCAPES: Record<string, string> = {
  '"': '"', "'": "'", '\\': '\\', a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
}

/** A Go double-quoted string (strconv.Quote) starting at `from`, unquoted; undefined if it does not close. */
function readQuoted(text: string, from: number): undefined | {end: number; value: string} {
  let value = ''
  let i = from + 1
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') return {end: i + 1, value}
    if (c !== '\\') {
      value += c
      i++
      continue
    }

    const e = text[i + 1]
    if (e === undefined) return undefined
    const hex = {U: 8, u: 4, x: 2}[e as 'U' | 'u' | 'x']
    if (hex) {
      const code = Number.parseInt(text.slice(i + 2, i + 2 + hex), 16)
      if (Number.isNaN(code)) return undefined
      value += String.fromCodePoint(code)
      i += 2 + hex
    } else if (/[0-7]/.test(e)) {
      value += String.fromCodePoint(Number.parseInt(text.slice(i + 1, i + 4), 8))
      i += 4
    } else {
      value += ESCAPES[e] ?? e
      i += 2
    }
  }

  return undefined
}

/** Is `name` in `text` as a whole name (not part of a longer DNS name such as `web-node1-x`)? */
function mentions(text: string, name: string): boolean {
  let at = text.indexOf(name)
  while (at !== -1) {
    const before = text[at - 1]
    const after = text[at + name.length]
    // A dot right after the name ends a sentence, unless a name goes on after it (web.yaml.bak).
    const ends = after === undefined || !/[\w.-]/.test(after) || (after === '.' && !/[\w-]/.test(text[at + name.length + 1] ?? ''))
    if ((before === undefined || !/[\w.-]/.test(before)) && ends) return true
    at = text.indexOf(name, at + 1)
  }

  return false
}

/** Does the line concern the file or the pod? */
export function isAbout(line: KubeletLine, about: KubeletAbout): boolean {
  const texts = [line.message, ...Object.values(line.fields)]
  if (about.file && texts.some(text => text === about.file || mentions(text, about.file!))) return true
  if (about.uid && texts.some(text => mentions(text, about.uid!))) return true
  if (about.pod) {
    const qualified = about.namespace ? `${about.namespace}/${about.pod}` : undefined
    if (texts.some(text => (qualified && mentions(text, qualified)) || mentions(text, about.pod!))) return true
  }

  return false
}

/** The lines (parsed, in order) that concern the file or the pod; none when `about` names neither. */
export function kubeletLinesAbout(lines: readonly string[], about: KubeletAbout): KubeletLine[] {
  if (!about.file && !about.pod && !about.uid) return []
  return lines.map(raw => parseKubeletLine(raw)).filter(line => isAbout(line, about))
}

/** The file source's messages for an entry it skipped (file.go, file_linux.go), and what they mean. */
const SKIPPED: Record<string, (line: KubeletLine) => string> = {
  'Could not get metadata': line => line.fields.err ?? line.message,
  'Could not process manifest file': line => line.fields.err ?? line.message,
  'Manifest path is not a directory or file': line => `not a directory or regular file${line.fields.mode ? ` (mode ${line.fields.mode})` : ''}: the kubelet skips it`,
  'Pod failed validation due to duplicate pod name, ignoring': () => 'another manifest defines the same pod (namespace/name): the kubelet ignores this one',
  'Provided manifest path is a directory, not recursing into manifest path': () => 'a directory: the kubelet does not recurse into it',
  'Unable to process watch event': line => line.fields.err ?? line.message,
  'Unable to read config path': line => line.fields.err ?? line.message,
}

/** Messages that say the kubelet has the pod (so an earlier failure no longer holds). */
const LOADED = new Set(['SyncLoop ADD', 'SyncLoop UPDATE'])

/**
 * Why the kubelet did not load the file: the reason of its last "skipped" line (kubelet-facts §1.4),
 * without the file name it repeats (`can't process config file "F": `, `F: `); undefined when the
 * lines hold none, or when the kubelet took the pod after its last complaint. `file` strips that
 * file's name; else the one the line names.
 */
export function kubeletReason(lines: readonly KubeletLine[], file?: string): string | undefined {
  let reason: string | undefined
  for (const line of lines) {
    const explain = SKIPPED[line.message] ?? legacyReason(line)
    if (explain) reason = stripFile(typeof explain === 'function' ? explain(line) : explain, file ?? line.fields.path)
    else if (LOADED.has(line.message)) reason = undefined
  }

  return reason
}

/** Kubelets before structured logging (< v1.21): `can't process config file "F": ...`, `Can't process manifest file "F": ...`. */
function legacyReason(line: KubeletLine): string | undefined {
  return /^(?:can't process config file|Can't process manifest file) "/.test(line.message) ? line.message : undefined
}

function stripFile(reason: string, file: string | undefined): string {
  let text = reason.replace(/^(?:can't process config file|Can't process manifest file) "((?:[^"\\]|\\.)*)": /, '')
  if (file && text.startsWith(`${file}: `)) text = text.slice(file.length + 2)
  return text
}
