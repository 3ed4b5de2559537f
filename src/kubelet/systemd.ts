/**
 * systemd unit files and drop-ins, read the way systemd reads them (src/shared/conf-parser.c,
 * src/core/load-fragment.c), reduced to what the kubelet's service needs: ExecStart=, Environment=,
 * EnvironmentFile=. Merging follows systemd: the unit file is the first found along the unit search
 * path; drop-ins `<unit>.d/*.conf` are collected from every directory of the path, a name in a
 * directory earlier in the path hiding the same name later (/etc hides /usr/lib), and applied in
 * lexical order of their file names. `systemctl cat` output is parsed into the same pieces.
 */
import {splitWords} from './words.js'

/** One `Key=Value` of a unit file, continuation lines joined. */
export interface UnitDirective {
  key: string
  /** 1-based line where the directive starts. */
  line: number
  section: string
  value: string
}

export interface UnitFile {
  directives: UnitDirective[]
  path: string
  warnings: string[]
}

/** Where a setting was written. */
export interface UnitSource {
  line: number
  path: string
}

export interface ExecCommand {
  /** argv as written (after unquoting and C escapes), argv[0] included; `$VAR`s not yet expanded. */
  argv: string[]
  /** `-` prefix: a failing exit status is ignored. */
  ignoreFailure: boolean
  /** `:` prefix: no environment variable expansion. */
  noEnvExpand: boolean
  /** The program (differs from argv[0] with the `@` prefix). */
  path: string
  source: UnitSource
}

export interface EnvironmentEntry {
  name: string
  source: UnitSource
  value: string
}

export interface EnvironmentFileEntry {
  /** `-` prefix: a missing file is not an error. */
  optional: boolean
  path: string
  source: UnitSource
}

/** The merged service settings of a unit and its drop-ins. */
export interface ServiceConfig {
  /** Drop-ins applied, in order. */
  dropIns: string[]
  /** Environment= after resets; one entry per name (the last assignment), in first-assignment order. */
  environment: EnvironmentEntry[]
  /** EnvironmentFile= after resets, in order (later files override earlier ones, and all override Environment=). */
  environmentFiles: EnvironmentFileEntry[]
  /** ExecStart= after resets (an empty `ExecStart=` clears the list). More than one is an error for Type=simple. */
  execStart: ExecCommand[]
  /** The unit file itself; undefined when only drop-ins were found. */
  fragment?: string
  unit: string
  warnings: string[]
}

/**
 * The system unit search path (`systemd-analyze unit-paths`, Debian 12 / systemd 252), highest
 * priority first; generator and attached directories left out.
 */
export const UNIT_DIRS: readonly string[] = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
]

const COMMENTS = '#;'

/** Parse one unit file or drop-in. Never throws; oddities end up in `warnings`. */
export function parseUnitFile(text: string, path: string): UnitFile {
  const directives: UnitDirective[] = []
  const warnings: string[] = []
  let section = ''
  let continuation: string | undefined
  let continuationLine = 0
  const lines = text.replace(/^\uFEFF/, '').split('\n')
  // A final newline does not start another line.
  if (lines.at(-1) === '') lines.pop()
  for (const [index, physical] of lines.entries()) {
    const raw = physical.endsWith('\r') ? physical.slice(0, -1) : physical
    const trimmedStart = raw.replace(/^[\t ]+/, '')
    // Comment lines are skipped, even in the middle of a continuation.
    if (trimmedStart !== '' && COMMENTS.includes(trimmedStart[0]!)) continue
    let logical = continuation === undefined ? raw : continuation + raw
    const startLine = continuation === undefined ? index + 1 : continuationLine
    if (endsEscaped(logical)) {
      // A trailing backslash joins the next line; the backslash becomes a space.
      logical = logical.slice(0, -1) + ' '
      if (continuation === undefined) continuationLine = index + 1
      continuation = logical
      continue
    }

    continuation = undefined
    section = parseLine(logical, startLine, section, directives, warnings, path)
  }

  if (continuation !== undefined) parseLine(continuation, continuationLine, section, directives, warnings, path)
  return {directives, path, warnings}
}

function endsEscaped(text: string): boolean {
  let escaped = false
  for (const c of text) escaped = escaped ? false : c === '\\'
  return escaped
}

function parseLine(
  logical: string,
  line: number,
  section: string,
  directives: UnitDirective[],
  warnings: string[],
  path: string,
): string {
  const l = logical.trim()
  if (l === '') return section
  if (l.startsWith('[')) {
    if (!l.endsWith(']')) {
      warnings.push(`${path}:${line}: invalid section header "${l}"`)
      return section
    }

    return l.slice(1, -1)
  }

  const eq = l.indexOf('=')
  if (eq === -1) {
    warnings.push(`${path}:${line}: missing "=", ignoring line`)
    return section
  }

  if (section === '') warnings.push(`${path}:${line}: assignment outside of a section, ignoring`)
  else directives.push({
    key: l.slice(0, eq).trim(), line, section, value: l.slice(eq + 1).trim(),
  })
  return section
}

/** Specifiers the kubelet's unit could use; anything else is kept as written (with a warning). */
function expandSpecifiers(text: string, unit: string, warnings: string[], where: string): string {
  const prefix = unit.replace(/\.[^.]+$/, '')
  const table: Record<string, string> = {
    '%': '%', C: '/var/cache', E: '/etc', L: '/var/log', N: prefix, n: unit, P: prefix, p: prefix,
    S: '/var/lib', T: '/tmp', t: '/run', V: '/var/tmp',
  }
  return text.replaceAll(/%(.)/g, (all, c: string) => {
    if (c in table) return table[c]!
    warnings.push(`${where}: specifier %${c} is not resolved by staticpod`)
    return all
  })
}

/** Merge a unit file and its drop-ins (already in the order systemd applies them). */
export function mergeUnit(fragment: undefined | UnitFile, dropIns: readonly UnitFile[], unit = 'kubelet.service'): ServiceConfig {
  const warnings: string[] = []
  let environment: EnvironmentEntry[] = []
  let environmentFiles: EnvironmentFileEntry[] = []
  let execStart: ExecCommand[] = []
  const files = fragment ? [fragment, ...dropIns] : [...dropIns]
  for (const file of files) {
    warnings.push(...file.warnings)
    for (const dir of file.directives) {
      if (dir.section !== 'Service') continue
      const source = {line: dir.line, path: file.path}
      const where = `${file.path}:${dir.line}`
      switch (dir.key) {
      case 'Environment': {
        if (dir.value === '') {
          environment = []
          break
        }

        const split = splitWords(dir.value, {cunescape: true})
        if (split.error) warnings.push(`${where}: ${split.error}, ignoring`)
        for (const w of split.error ? [] : split.words) {
          const assignment = expandSpecifiers(w.text, unit, warnings, where)
          const at = assignment.indexOf('=')
          const name = assignment.slice(0, at)
          if (at <= 0 || !/^[A-Z_a-z]\w*$/.test(name)) {
            warnings.push(`${where}: invalid environment assignment "${assignment}", ignoring`)
            continue
          }

          const entry = {name, source, value: assignment.slice(at + 1)}
          const existing = environment.findIndex(e => e.name === name)
          if (existing === -1) environment.push(entry)
          else environment[existing] = entry
        }

        break
      }

      case 'EnvironmentFile': {
        if (dir.value === '') {
          environmentFiles = []
          break
        }

        const optional = dir.value.startsWith('-')
        const path = expandSpecifiers(optional ? dir.value.slice(1) : dir.value, unit, warnings, where)
        if (path.startsWith('/')) environmentFiles.push({optional, path, source})
        else warnings.push(`${where}: EnvironmentFile= path "${path}" is not absolute, ignoring`)
        break
      }

      case 'ExecStart': {
        if (dir.value === '') {
          execStart = []
          break
        }

        execStart.push(...parseExec(dir.value, source, unit, warnings, where))
        break
      }

      default:
      }
    }
  }

  return {
    dropIns: dropIns.map(f => f.path),
    environment,
    environmentFiles,
    execStart,
    fragment: fragment?.path,
    unit,
    warnings,
  }
}

function parseExec(value: string, source: UnitSource, unit: string, warnings: string[], where: string): ExecCommand[] {
  const split = splitWords(value, {cunescape: true})
  if (split.error) {
    warnings.push(`${where}: ${split.error}, ignoring`)
    return []
  }

  // A lone `;` separates commands (only meaningful for Type=oneshot); `\;` is a literal `;`.
  const groups: string[][] = [[]]
  for (const w of split.words) {
    const written = value.slice(w.start, w.end)
    if (written === ';') groups.push([])
    else groups.at(-1)!.push(expandSpecifiers(w.text, unit, warnings, where))
  }

  const out: ExecCommand[] = []
  for (const words of groups) {
    if (words.length === 0) continue
    let first = words[0]!
    let ignoreFailure = false
    let noEnvExpand = false
    let separateArgv0 = false
    for (;;) {
      const c = first[0]
      if (c === '-' && !ignoreFailure) ignoreFailure = true
      else if (c === '@' && !separateArgv0) separateArgv0 = true
      else if (c === ':' && !noEnvExpand) noEnvExpand = true
      else if (c === '+' || c === '!' || c === '|') {
        // privilege and shell prefixes do not change the argv
      } else break
      first = first.slice(1)
    }

    const argv = separateArgv0 ? words.slice(1) : [first, ...words.slice(1)]
    out.push({
      argv, ignoreFailure, noEnvExpand, path: first, source,
    })
  }

  return out
}

/** Lookup of file contents: path → text, or undefined when the file is known to be missing. */
export type FileLookup = (path: string) => string | undefined

/** Drop-in directories of a unit, in search-path order. */
export function dropInDirs(unit = 'kubelet.service'): string[] {
  return UNIT_DIRS.map(dir => `${dir}/${unit}.d`)
}

/**
 * The unit and its drop-ins from a set of files, as systemd would pick them: `paths` is every file
 * path known to exist (the fetched files), `read` gives their text.
 */
export function unitFromFiles(paths: Iterable<string>, read: FileLookup, unit = 'kubelet.service'): ServiceConfig | undefined {
  const known = new Set(paths)
  const fragmentPath = UNIT_DIRS.map(dir => `${dir}/${unit}`).find(p => known.has(p) && read(p) !== undefined)
  const byName = new Map<string, string>()
  for (const dir of dropInDirs(unit)) {
    for (const p of [...known].sort()) {
      if (!p.startsWith(dir + '/') || !p.endsWith('.conf')) continue
      const name = p.slice(dir.length + 1)
      if (name.includes('/') || byName.has(name) || read(p) === undefined) continue
      byName.set(name, p)
    }
  }

  if (!fragmentPath && byName.size === 0) return undefined
  const dropIns = [...byName.keys()].sort().map(name => parseUnitFile(read(byName.get(name)!)!, byName.get(name)!))
  const fragment = fragmentPath ? parseUnitFile(read(fragmentPath)!, fragmentPath) : undefined
  return mergeUnit(fragment, dropIns, unit)
}

/** One file shown by `systemctl cat`. */
export interface CatFile {
  path: string
  text: string
}

/**
 * Split `systemctl cat UNIT` output into its files. Each file is introduced by a `# /path` line (the
 * first line, or a line after an empty line whose path is a unit or a drop-in); lines before the
 * first such header (warnings such as "# Warning: … changed on disk") are skipped.
 */
export function parseSystemctlCat(output: string): CatFile[] {
  const files: CatFile[] = []
  const lines = output.split('\n')
  let current: undefined | {lines: string[]; path: string}
  const isHeader = (line: string, prev: string | undefined): boolean => {
    const m = /^# (\/\S+)$/.exec(line)
    if (!m) return false
    if (!current) return true
    return prev === '' && (/\.d\/[^/]+\.conf$/.test(m[1]!) || /\/[^/]+\.(service|socket|target|timer|mount|path|slice)$/.test(m[1]!))
  }

  for (const [i, line] of lines.entries()) {
    if (isHeader(line, lines[i - 1])) {
      if (current) files.push(finish(current, true))
      current = {lines: [], path: line.slice(2)}
      continue
    }

    current?.lines.push(line)
  }

  if (current) files.push(finish(current, false))
  return files
}

function finish(file: {lines: string[]; path: string}, followedByAnother: boolean): CatFile {
  const lines = [...file.lines]
  // systemctl prints an empty line between files, and the output ends with a newline.
  if (followedByAnother && lines.at(-1) === '') lines.pop()
  let text = lines.join('\n')
  if (!followedByAnother && text.endsWith('\n')) text = text.slice(0, -1)
  return {path: file.path, text: text === '' ? '' : text + '\n'}
}

/** The merged service from `systemctl cat` output (the first file is the unit, the rest drop-ins in order). */
export function unitFromSystemctlCat(output: string, unit = 'kubelet.service'): ServiceConfig | undefined {
  const files = parseSystemctlCat(output)
  if (files.length === 0) return undefined
  const parsed = files.map(f => parseUnitFile(f.text, f.path))
  const [first, ...rest] = parsed
  const firstIsDropIn = /\.d\/[^/]+\.conf$/.test(first!.path)
  return firstIsDropIn ? mergeUnit(undefined, parsed, unit) : mergeUnit(first, rest, unit)
}
