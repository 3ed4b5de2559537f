import {
  dump, type DumpOptions, loadAll, YAMLException,
} from 'js-yaml'

/**
 * KubeletConfiguration files (kubelet.config.k8s.io/v1beta1): the --config file and the --config-dir
 * drop-ins. The kubelet decodes them with sigs.k8s.io/yaml (go-yaml v2), so they are read with
 * KUBE_YAML_SCHEMA: `yes` is true, `0644` is 420. Reading gives plain data; editing sets or removes
 * one field by changing only the bytes of that field (located with the node tree of
 * src/yaml/positions.ts), so comments, order, quoting and indentation of everything else stay as
 * they were. An unedited file is returned unchanged. New values are written by js-yaml's dump with
 * the same schema, so a string that go-yaml would read as a boolean or a number is quoted.
 *
 * Drop-ins (cmd/kubelet/app/server.go mergeKubeletConfigurations): every `*.conf` file under the
 * directory, walked in lexical order (subdirectories too), each applied as a JSON merge patch
 * (RFC 7386) on top of the config file: objects merge key by key, lists and scalars are replaced,
 * `null` removes.
 */
import {UserError} from '../errors.js'
import {KUBE_YAML_SCHEMA} from '../manifest/yaml.js'
import {
  parseWithPositions, type YamlDocument, type YamlFile, type YamlNode,
} from '../yaml/positions.js'

export const KUBELET_API_VERSION = 'kubelet.config.k8s.io/v1beta1'
export const KUBELET_KIND = 'KubeletConfiguration'

export interface KubeletConfigFile {
  /** The parsed content (an empty object when the file is empty or not a mapping). */
  data: Record<string, unknown>
  /** YAML syntax errors: the kubelet refuses to start with such a file. */
  errors: string[]
  path: string
  text: string
  /** Missing or unexpected apiVersion/kind. */
  warnings: string[]
}

/** Parse a KubeletConfiguration (YAML or JSON). Never throws. */
export function parseKubeletConfig(text: string, path: string): KubeletConfigFile {
  const errors: string[] = []
  const warnings: string[] = []
  let data: Record<string, unknown> = {}
  let documents: unknown[] = []
  try {
    documents = loadAll(text, undefined, {schema: KUBE_YAML_SCHEMA})
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error
    const {mark, reason} = error as Partial<YAMLException>
    errors.push(`${path}:${(mark?.line ?? 0) + 1}:${(mark?.column ?? 0) + 1}: ${reason ?? error.message}`)
  }

  if (documents.length > 1) errors.push(`${path}: ${documents.length} YAML documents (a KubeletConfiguration is one)`)
  if (errors.length === 0) {
    const js = documents[0] ?? null
    if (isRecord(js)) data = js
    else if (js !== null) errors.push(`${path}: not a mapping`)
  }

  if (errors.length === 0 && text.trim() !== '') {
    if (data.apiVersion !== KUBELET_API_VERSION) {
      warnings.push(`${path}: apiVersion is ${JSON.stringify(data.apiVersion ?? null)}, expected ${KUBELET_API_VERSION}`)
    }

    if (data.kind !== KUBELET_KIND) warnings.push(`${path}: kind is ${JSON.stringify(data.kind ?? null)}, expected ${KUBELET_KIND}`)
  }

  return {
    data, errors, path, text, warnings,
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A field by dotted path (`authentication.x509.clientCAFile`): present (even as null) or not. */
export function getField(data: Record<string, unknown>, field: string): {present: boolean; value?: unknown} {
  let cur: unknown = data
  for (const seg of field.split('.')) {
    if (!isRecord(cur) || !(seg in cur)) return {present: false}
    cur = cur[seg]
  }

  return {present: true, value: cur}
}

/** RFC 7386 JSON merge patch, as the kubelet applies --config-dir drop-ins. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch
  const out: Record<string, unknown> = isRecord(target) ? {...target} : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }

  return out
}

/**
 * The drop-ins the kubelet reads from --config-dir, in the order it applies them: files ending in
 * `.conf` under `dir` (subdirectories included), walked like Go's filepath.WalkDir (entries sorted by
 * name at each level). `paths` are the files known to exist.
 */
export function configDirDropIns(paths: Iterable<string>, dir: string): string[] {
  const base = dir.replace(/\/+$/, '')
  const found = [...paths].filter(p => p.startsWith(base + '/') && p.endsWith('.conf'))
  const key = (p: string): string[] => p.slice(base.length + 1).split('/')
  return found.sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1
    }

    return ka.length - kb.length
  })
}

const NEW_FILE_HEADER = `apiVersion: ${KUBELET_API_VERSION}\nkind: ${KUBELET_KIND}\n`

/**
 * How new values are written: as go-yaml reads them (a string like `yes`, `0644` or `1e3` is quoted),
 * on one line however long, without anchors for values that appear twice.
 */
const DUMP: DumpOptions = {lineWidth: -1, noRefs: true, schema: KUBE_YAML_SCHEMA}

const EDIT_HINTS = ['Fix the file on the node first; the kubelet cannot read it either.']

/**
 * Set a field (dotted path) to a value, changing only that field's bytes: an existing scalar is
 * rewritten in place (keeping its quoting), an existing collection is replaced, a missing field is
 * inserted in its map (at its sorted place when the map's keys are sorted, as kubeadm writes them;
 * else last), with missing parent maps created. `text` undefined: a new file.
 */
export function setConfigField(text: string | undefined, field: string, value: unknown): string {
  const path = field.split('.')
  if (text === undefined || text.trim() === '') {
    // A new file: apiVersion and kind first, then the field.
    return NEW_FILE_HEADER + dump(nest(path, value), {...DUMP, noArrayIndent: true})
  }

  const source = text
  const current = getField(parseKubeletConfig(source, '').data, field)
  if (current.present && JSON.stringify(current.value) === JSON.stringify(value)) return source
  const json = editJson(source, data => Object.assign(data, mergePatch(data, nest(path, value))))
  if (json !== undefined) return json
  const edit = openForEdit(source)
  const {doc} = edit
  if (!isBlockMapping(edit, doc.root)) return replaceWhole(edit, path, value)
  let map = doc.resolve(doc.root)
  for (const [depth, segment] of path.entries()) {
    const pair = findPair(edit, map, segment)
    if (!pair) return insertPair(edit, map, path.slice(depth), value)
    if (depth === path.length - 1) return replaceValue(edit, pair, value)
    if (!isBlockMapping(edit, pair.value)) {
      // A flow map (or an alias of a map) is rewritten whole, with the field merged in.
      const rest = nest(path.slice(depth + 1), value)
      return replaceValue(edit, pair, isRecord(pair.value.value) ? mergePatch(pair.value.value, rest) : rest)
    }

    map = doc.resolve(pair.value)
  }

  return source
}

/**
 * Remove a field (dotted path): its key and value lines go, nothing else (parent maps left empty by
 * it go too). An absent field leaves the text as it is.
 */
export function unsetConfigField(text: string, field: string): string {
  const path = field.split('.')
  if (!getField(parseKubeletConfig(text, '').data, field).present) return text
  const json = editJson(text, data => deletePath(data, path))
  if (json !== undefined) return json
  const edit = openForEdit(text)
  const {doc, file} = edit
  const chain: Array<{map: YamlNode; pair: Pair}> = []
  let node = doc.root
  for (const segment of path) {
    // Through an alias, the edit would change its anchor (and every other alias of it).
    if (file.style(node) === 'alias') return text
    const map = doc.resolve(node)
    const pair = isRecord(map.value) ? findPair(edit, map, segment) : undefined
    if (!pair) return text
    chain.push({map, pair})
    node = pair.value
  }

  // Remove the highest pair whose map would otherwise be left empty.
  let k = chain.length - 1
  while (k > 0 && doc.pairs(chain[k]!.map)?.length === 1 && file.style(chain[k]!.map) !== 'flow') k--
  const {map, pair} = chain[k]!
  if (file.style(map) === 'flow') {
    const rest = {...(map.value as Record<string, unknown>)}
    delete rest[keyOf(pair)]
    return splice(edit, file.contentStart(map), file.contentEnd(map), renderFlow(rest))
  }

  const start = file.lineStart(file.contentStart(pair.key))
  return text.slice(0, start) + text.slice(pairEnd(edit, pair))
}

/** A text being edited, parsed with positions. */
interface Edit {
  doc: YamlDocument
  /** The text's line break, for inserted lines. */
  eol: string
  file: YamlFile
  text: string
}

interface Pair {
  key: YamlNode
  value: YamlNode
}

function openForEdit(text: string): Edit {
  const file = parseWithPositions(text, {schema: KUBE_YAML_SCHEMA})
  if (file.error) {
    const {column, line, message} = file.error
    throw new UserError(`cannot edit a KubeletConfiguration with YAML errors: line ${line}, column ${column}: ${message}`, {hints: EDIT_HINTS})
  }

  const [doc, ...more] = file.documents
  if (!doc || more.length > 0) {
    throw new UserError(`cannot edit a KubeletConfiguration with YAML errors: ${file.documents.length} YAML documents in one file`, {hints: EDIT_HINTS})
  }

  return {
    doc, eol: text.includes('\r\n') ? '\r\n' : '\n', file, text,
  }
}

function isBlockMapping({file}: Edit, node: YamlNode): boolean {
  return isRecord(node.value) && file.style(node) === 'block'
}

function findPair({doc}: Edit, map: YamlNode, key: string): Pair | undefined {
  const pair = doc.pairs(map)?.find(([k]) => String(k.value) === key)
  return pair && {key: pair[0], value: pair[1]}
}

function keyOf(pair: Pair): string {
  return String(pair.key.value)
}

function nest(path: string[], value: unknown): unknown {
  let v = value
  for (const seg of [...path].reverse()) v = {[seg]: v}
  return v
}

function splice({text}: Edit, start: number, end: number, replacement: string): string {
  return text.slice(0, start) + replacement + text.slice(end)
}

/** Text with a snippet of whole lines added at its end. */
function append({eol, text}: Edit, snippet: string): string {
  return text + (text === '' || text.endsWith('\n') || text.endsWith('\r') ? '' : eol) + snippet
}

/** Offset just past the pair's last line (its value, trailing comment and line break). */
function pairEnd({file, text}: Edit, pair: Pair): number {
  const end = file.contentEnd(pair.value)
  return end > 0 && (text[end - 1] === '\n' || text[end - 1] === '\r') ? end : file.lineEnd(end)
}

/** The column of a block map's keys. */
function indentOf({doc, file}: Edit, map: YamlNode): number {
  const first = doc.pairs(map)?.[0]
  if (!first) return 0
  const at = file.contentStart(first[0])
  return at - file.lineStart(at)
}

/** Whether block sequences in this file are indented under their key (`key:\n  - a`) or not (`key:\n- a`). */
function indentSeq({doc, file}: Edit): boolean {
  const visit = (map: YamlNode): boolean | undefined => {
    for (const [key, value] of doc.pairs(map) ?? []) {
      if (file.style(value) !== 'block') continue
      if (Array.isArray(value.value)) {
        const column = (at: number): number => at - file.lineStart(at)
        return column(file.contentStart(value)) > column(file.contentStart(key))
      }

      const inner = visit(value)
      if (inner !== undefined) return inner
    }

    return undefined
  }

  return visit(doc.resolve(doc.root)) ?? false
}

/** A block `key: value` snippet, every line indented by `indent` spaces and ended by the file's line break. */
function renderPair(edit: Edit, key: string, value: unknown, indent: number): string {
  const body = dump({[key]: value}, {...DUMP, noArrayIndent: !indentSeq(edit)})
  const pad = ' '.repeat(indent)
  return body.split('\n').slice(0, -1).map(line => (line === '' ? line : pad + line) + edit.eol).join('')
}

function renderFlow(value: unknown): string {
  return dump(value, {...DUMP, flowLevel: 0}).trimEnd()
}

/** A JSON file stays JSON (re-indented as it was: by the first indented line). */
function editJson(source: string, edit: (data: Record<string, unknown>) => void): string | undefined {
  const bom = source.startsWith('\uFEFF') ? '\uFEFF' : ''
  let data: unknown
  try {
    data = JSON.parse(source.slice(bom.length))
  } catch {
    return undefined
  }

  if (!isRecord(data)) return undefined
  edit(data)
  const indent = /\n([\t ]+)"/.exec(source)?.[1] ?? ''
  return bom + JSON.stringify(data, null, indent) + (source.endsWith('\n') ? '\n' : '')
}

function deletePath(data: Record<string, unknown>, path: string[]): void {
  let cur: unknown = data
  for (const seg of path.slice(0, -1)) {
    if (!isRecord(cur)) return
    cur = cur[seg]
  }

  if (isRecord(cur)) delete cur[path.at(-1)!]
}

/** The root is not a block map (a flow map, a scalar, nothing): write it whole, in flow style. */
function replaceWhole(edit: Edit, path: string[], value: unknown): string {
  const {doc, file} = edit
  const merged = mergePatch(isRecord(doc.value) ? doc.value : {}, nest(path, value)) as Record<string, unknown>
  if (file.isEmpty(doc.root)) return append(edit, renderPair(edit, path[0]!, merged[path[0]!], 0))
  return splice(edit, file.contentStart(doc.root), file.contentEnd(doc.root), renderFlow(merged))
}

function insertPair(edit: Edit, map: YamlNode, path: string[], value: unknown): string {
  const {doc, file, text} = edit
  const [key, ...rest] = path
  const nested = nest(rest, value)
  if (file.style(map) === 'flow') {
    return splice(edit, file.contentStart(map), file.contentEnd(map), renderFlow(mergePatch(map.value, {[key!]: nested})))
  }

  const items = doc.pairs(map) ?? []
  // An empty block map cannot exist; the parent holds `key:` with a null value (handled by replaceValue).
  if (items.length === 0) return append(edit, renderPair(edit, key!, nested, 0))
  const snippet = renderPair(edit, key!, nested, indentOf(edit, map))
  const keys = items.map(([k]) => String(k.value))
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k)
  const before = sorted ? items.find(([k]) => String(k.value) > key!) : undefined
  const beforeAt = before && file.contentStart(before[0])
  // Before the following key, when it starts its line (not after a `- `).
  if (beforeAt !== undefined && text.slice(file.lineStart(beforeAt), beforeAt).trim() === '') {
    let at = file.lineStart(beforeAt)
    // Keep comment lines that sit just above the following key with that key.
    while (at > 0) {
      const prev = file.lineStart(at - 1)
      if (!/^\s*#/.test(text.slice(prev, at))) break
      at = prev
    }

    return text.slice(0, at) + snippet + text.slice(at)
  }

  const [lastKey, lastValue] = items.at(-1)!
  const end = pairEnd(edit, {key: lastKey, value: lastValue})
  const sep = end > 0 && text[end - 1] !== '\n' && text[end - 1] !== '\r' ? edit.eol : ''
  return text.slice(0, end) + sep + snippet + text.slice(end)
}

function replaceValue(edit: Edit, pair: Pair, value: unknown): string {
  const {file, text} = edit
  const node = pair.value
  const style = file.style(node)
  const isCollection = typeof value === 'object' && value !== null
  if (!isCollection && style !== 'block' && style !== 'flow') {
    // `key:` with nothing after it: the null has no text, so put a space before the new value.
    if (style === 'empty') return splice(edit, node.start, node.start, ' ' + renderScalar(style, value))
    return splice(edit, file.contentStart(node), file.contentEnd(node), renderScalar(style, value))
  }

  if (isCollection && style === 'flow') return splice(edit, file.contentStart(node), file.contentEnd(node), renderFlow(value))

  // Replace everything after `key:` up to the end of the value with the new rendering.
  const colon = text.indexOf(':', file.contentEnd(pair.key))
  const keyAt = file.contentStart(pair.key)
  const indent = keyAt - file.lineStart(keyAt)
  // Rendered under a one-letter key, the value starts after `k:`.
  const afterKey = renderPair(edit, 'k', value, indent).slice(indent + 2)
  return text.slice(0, colon + 1) + afterKey + text.slice(pairEnd(edit, pair))
}

/** A scalar in the quoting the old one used, when that can carry it; on one line. */
function renderScalar(style: string, value: unknown): string {
  if (typeof value === 'string') {
    if (style === 'double-quoted') return JSON.stringify(value)
    if (style === 'single-quoted' && !value.includes('\n')) return `'${value.replaceAll("'", "''")}'`
  }

  const rendered = dump(value, DUMP).trimEnd()
  // A multi-line string would be a block scalar, indented for the top level: double-quote it instead.
  return rendered.includes('\n') ? JSON.stringify(value) : rendered
}
