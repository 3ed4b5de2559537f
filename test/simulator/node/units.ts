// systemd unit files as systemd reads them: the unit file from the first directory of the search path that has
// it, drop-ins `<unit>.d/*.conf` from every directory (a same-named drop-in in a higher-priority directory masks
// the others; applied in file-name order), Environment= / EnvironmentFile= (files override Environment=, read at
// every start), and ExecStart= (an empty assignment resets the list) with `$VAR` / `${VAR}` expansion.
import {
  existsSync, readdirSync, readFileSync, statSync,
} from 'node:fs'
import path from 'node:path'

/** Highest priority first (systemd.unit(5), system units). */
export const UNIT_PATH = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system']

export interface UnitFile {
  content: string
  path: string
}

export interface LoadedUnit {
  description: string
  documentation: string[]
  dropIns: UnitFile[]
  environment: string[]
  environmentFiles: {optional: boolean; path: string}[]
  execStart: {ignoreFailure: boolean; raw: string}[]
  fragment: UnitFile
  name: string
  restart: string
  restartSecMs: number
  /** Contents of fragment + drop-ins at load time, to tell when a daemon-reload is needed. */
  snapshot: string
  /** StartLimitBurst= starts within StartLimitIntervalSec= (0: no limit). Defaults 5 in 10 s. */
  startLimitBurst: number
  startLimitIntervalMs: number
  timeoutStopMs: number
}

type Section = Record<string, string[]>

/** Parses an INI-style unit file into sections of `key → values in order` (continuation lines joined). */
export function parseUnitText(text: string): Record<string, Section> {
  const sections: Record<string, Section> = {}
  let current: Section | undefined
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`
    }

    const section = /^\[(.+)]$/.exec(line)
    if (section) {
      sections[section[1]!] ??= {}
      current = sections[section[1]!]
      continue
    }

    const eq = line.indexOf('=')
    if (eq === -1 || !current) continue
    const key = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    current[key] = [...(current[key] ?? []), value]
  }

  return sections
}

/** systemd's time span: `10`, `10s`, `100ms`, `1min 30s`, `infinity`. */
export function parseTimeSpan(text: string): number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY
  const units: Record<string, number> = {
    d: 86_400_000, h: 3_600_000, hr: 3_600_000, m: 60_000, min: 60_000, ms: 1, s: 1000, sec: 1000, us: 0.001,
  }
  let total = 0
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)) total += Number(match[1]) * (units[match[2] || 's'] ?? 1000)
  return total
}

/** Splits a unit-file value into words (double and single quotes, backslash escapes), as systemd does. */
export function splitWords(text: string): {quoted: boolean; word: string}[] {
  const words: {quoted: boolean; word: string}[] = []
  let i = 0
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (i >= text.length) break
    let word = ''
    let quoted = false
    while (i < text.length && !/\s/.test(text[i]!)) {
      const c = text[i]!
      if (c === '"' || c === "'") {
        quoted = true
        const end = text.indexOf(c, i + 1)
        const stop = end === -1 ? text.length : end
        word += c === '"' ? text.slice(i + 1, stop).replaceAll(/\\(.)/g, '$1') : text.slice(i + 1, stop)
        i = stop + 1
      } else if (c === '\\' && i + 1 < text.length) {
        word += text[i + 1]
        i += 2
      } else {
        word += c
        i++
      }
    }

    words.push({quoted, word})
  }

  return words
}

/** EnvironmentFile= syntax: KEY=VALUE lines, comments, quotes, backslash continuations. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!
    line = line.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const eq = line.indexOf('=')
    if (eq === -1) continue
    const key = line.slice(0, eq).trim()
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue
    let value = line.slice(eq + 1).trim()
    if (value.startsWith('"')) {
      const end = value.lastIndexOf('"')
      value = value.slice(1, end > 0 ? end : undefined).replaceAll(/\\([\\"$`\n])/g, '$1')
    } else if (value.startsWith("'")) {
      const end = value.lastIndexOf("'")
      value = value.slice(1, end > 0 ? end : undefined)
    } else {
      value = value.replace(/\s+#.*$/, '')
    }

    env[key] = value
  }

  return env
}

/** Environment= values: one or more `KEY=VALUE` words each. */
export function parseEnvironmentAssignments(values: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const value of values) {
    for (const {word} of splitWords(value)) {
      const eq = word.indexOf('=')
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1)
    }
  }

  return env
}

/**
 * Expands an ExecStart= command line: `$VAR` as a word of its own becomes the value split at whitespace (zero or
 * more words); `${VAR}` becomes the exact value inside its word. Returns the argv and the unset variables.
 */
export function expandCommandLine(raw: string, env: Record<string, string>): {argv: string[]; unset: string[]} {
  const unset: string[] = []
  const lookup = (name: string) => {
    if (!(name in env)) unset.push(name)
    return env[name] ?? ''
  }

  const argv: string[] = []
  for (const {quoted, word} of splitWords(raw)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word)
    if (whole && !quoted) {
      argv.push(...lookup(whole[1]!).split(/\s+/).filter(w => w !== ''))
      continue
    }

    argv.push(word.replaceAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced: string, bare: string) => lookup(braced ?? bare)))
  }

  return {argv, unset: [...new Set(unset)]}
}

function readUnitFile(file: string): undefined | UnitFile {
  try {
    if (!statSync(file).isFile()) return undefined
    return {content: readFileSync(file, 'utf8'), path: file}
  } catch {
    return undefined
  }
}

/** The unit file and its drop-ins as currently on disk (or undefined if there is no unit file). */
export function findUnitFiles(name: string, root = '/'): undefined | {dropIns: UnitFile[]; fragment: UnitFile} {
  let fragment: undefined | UnitFile
  for (const dir of UNIT_PATH) {
    fragment = readUnitFile(path.join(root, dir, name))
    if (fragment) break
  }

  if (!fragment) return undefined
  const dropIns = new Map<string, UnitFile>()
  for (const dir of UNIT_PATH) {
    const dropInDir = path.join(root, dir, `${name}.d`)
    if (!existsSync(dropInDir)) continue
    let entries: string[]
    try {
      entries = readdirSync(dropInDir)
    } catch {
      continue
    }

    for (const entry of entries) {
      if (!entry.endsWith('.conf') || dropIns.has(entry)) continue
      const file = readUnitFile(path.join(dropInDir, entry))
      if (file) dropIns.set(entry, file)
    }
  }

  return {dropIns: [...dropIns.keys()].sort().map(key => dropIns.get(key)!), fragment}
}

export function snapshotOf(files: undefined | {dropIns: UnitFile[]; fragment: UnitFile}): string {
  if (!files) return ''
  return [files.fragment, ...files.dropIns].map(file => `${file.path}\n${file.content}`).join('\0')
}

/** Loads a unit with its drop-ins applied in order. */
export function loadUnit(name: string, root = '/'): LoadedUnit | undefined {
  const files = findUnitFiles(name, root)
  if (!files) return undefined
  const unit: LoadedUnit = {
    description: name,
    documentation: [],
    dropIns: files.dropIns,
    environment: [],
    environmentFiles: [],
    execStart: [],
    fragment: files.fragment,
    name,
    restart: 'no',
    restartSecMs: 100,
    snapshot: snapshotOf(files),
    startLimitBurst: 5,
    startLimitIntervalMs: 10_000,
    timeoutStopMs: 90_000,
  }
  for (const file of [files.fragment, ...files.dropIns]) {
    const sections = parseUnitText(file.content)
    const unitSection = sections.Unit ?? {}
    const service = sections.Service ?? {}
    if (unitSection.Description) unit.description = unitSection.Description.at(-1)!
    for (const doc of unitSection.Documentation ?? []) {
      if (doc === '') unit.documentation = []
      else unit.documentation.push(...doc.split(/\s+/))
    }

    for (const value of service.Environment ?? []) {
      if (value === '') unit.environment = []
      else unit.environment.push(value)
    }

    for (const value of service.EnvironmentFile ?? []) {
      if (value === '') unit.environmentFiles = []
      else unit.environmentFiles.push({optional: value.startsWith('-'), path: value.replace(/^-/, '')})
    }

    for (const value of service.ExecStart ?? []) {
      if (value === '') unit.execStart = []
      else {
        const prefix = /^[-@:+!]*/.exec(value)![0]
        unit.execStart.push({ignoreFailure: prefix.includes('-'), raw: value.slice(prefix.length)})
      }
    }

    if (service.Restart) unit.restart = service.Restart.at(-1)!
    if (service.RestartSec) unit.restartSecMs = parseTimeSpan(service.RestartSec.at(-1)!)
    const stop = service.TimeoutStopSec ?? service.TimeoutSec
    if (stop) unit.timeoutStopMs = parseTimeSpan(stop.at(-1)!)
    const interval = unitSection.StartLimitIntervalSec ?? service.StartLimitInterval ?? service.StartLimitIntervalSec
    if (interval) unit.startLimitIntervalMs = parseTimeSpan(interval.at(-1)!)
    const burst = unitSection.StartLimitBurst ?? service.StartLimitBurst
    if (burst) unit.startLimitBurst = Number(burst.at(-1))
  }

  return unit
}
