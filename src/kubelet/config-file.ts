import {
  type Document, isMap, isScalar, isSeq, type Node, type Pair, parseDocument, Scalar, stringify, type YAMLMap,
} from 'yaml'

/**
 * KubeletConfiguration files (kubelet.config.k8s.io/v1beta1): the --config file and the --config-dir
 * drop-ins. Reading gives plain data; editing sets or removes one field by changing only the bytes of
 * that field (located with the yaml Document's node ranges), so comments, order, quoting and
 * indentation of everything else stay as they were. An unedited file is returned unchanged.
 *
 * Drop-ins (cmd/kubelet/app/server.go mergeKubeletConfigurations): every `*.conf` file under the
 * directory, walked in lexical order (subdirectories too), each applied as a JSON merge patch
 * (RFC 7386) on top of the config file: objects merge key by key, lists and scalars are replaced,
 * `null` removes.
 */
import {UserError} from '../errors.js'

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
  const doc = parseDocument(text, {prettyErrors: false})
  const errors = doc.errors.map(e => `${path}: ${e.message}`)
  const warnings: string[] = []
  let data: Record<string, unknown> = {}
  if (errors.length === 0) {
    const js = doc.toJS() as unknown
    if (isRecord(js)) data = js
    else if (js !== null && js !== undefined) errors.push(`${path}: not a mapping`)
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
 * Set a field (dotted path) to a value, changing only that field's bytes: an existing scalar is
 * rewritten in place (keeping its quoting), an existing collection is replaced, a missing field is
 * inserted in its map (at its sorted place when the map's keys are sorted, as kubeadm writes them;
 * else last), with missing parent maps created. `text` undefined: a new file.
 */
export function setConfigField(text: string | undefined, field: string, value: unknown): string {
  const path = field.split('.')
  if (text === undefined || text.trim() === '') {
    // A new file: apiVersion and kind first, then the field.
    return NEW_FILE_HEADER + stringify(nest(path, value), {indentSeq: false, lineWidth: 0})
  }

  const source = text
  const current = getField(parseKubeletConfig(source, '').data, field)
  if (current.present && JSON.stringify(current.value) === JSON.stringify(value)) return source
  const json = editJson(source, data => Object.assign(data, mergePatch(data, nest(path, value))))
  if (json !== undefined) return json
  const doc = parseDocument(source)
  if (doc.errors.length > 0) throw new UserError(`cannot edit a KubeletConfiguration with YAML errors: ${doc.errors[0]!.message}`, {hints: ['Fix the file on the node first; the kubelet cannot read it either.']})
  const root = doc.contents
  if (!isMap(root) || root.flow) return replaceWhole(doc, source, path, value)
  let map: YAMLMap = root
  for (const [depth, seg] of path.entries()) {
    const pair = findPair(map, seg)
    const last = depth === path.length - 1
    if (!pair) return insertPair(doc, source, map, path.slice(depth), value)
    if (last) return replaceValue(doc, source, pair, value)
    const next = pair.value
    if (!isMap(next) || next.flow) {
      if (isMap(next) && next.flow) return replaceValue(doc, source, pair, mergedObject(next, path.slice(depth + 1), value))
      return replaceValue(doc, source, pair, nest(path.slice(depth + 1), value))
    }

    map = next
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
  const doc = parseDocument(text)
  if (doc.errors.length > 0) throw new UserError(`cannot edit a KubeletConfiguration with YAML errors: ${doc.errors[0]!.message}`, {hints: ['Fix the file on the node first; the kubelet cannot read it either.']})
  const chain: Array<{map: YAMLMap; pair: Pair}> = []
  let node: unknown = doc.contents
  for (const seg of path) {
    if (!isMap(node)) return text
    const pair = findPair(node, seg)
    if (!pair) return text
    chain.push({map: node, pair})
    node = pair.value
  }

  // Remove the highest pair whose map would otherwise be left empty.
  let k = chain.length - 1
  while (k > 0 && chain[k]!.map.items.length === 1 && !chain[k]!.map.flow) k--
  const {map, pair} = chain[k]!
  if (map.flow) {
    const js = (map.toJSON() ?? {}) as Record<string, unknown>
    delete js[keyOf(pair)]
    return replaceRange(text, map.range!, renderFlow(js))
  }

  const key = pair.key as Node
  const start = lineStart(text, key.range![0])
  const end = pairEnd(text, pair)
  return text.slice(0, start) + text.slice(end)
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return (map.items as Pair[]).find(p => keyOf(p) === key)
}

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
}

function nest(path: string[], value: unknown): unknown {
  let v = value
  for (const seg of [...path].reverse()) v = {[seg]: v}
  return v
}

function mergedObject(map: YAMLMap, path: string[], value: unknown): unknown {
  return mergePatch(map.toJSON(), nest(path, value))
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1
}

function lineEnd(text: string, at: number): number {
  const nl = text.indexOf('\n', at)
  return nl === -1 ? text.length : nl + 1
}

/** Offset just past the pair's last line (its value, trailing comment and newline). */
function pairEnd(text: string, pair: Pair): number {
  const value = pair.value as Node | null
  const end = value?.range ? value.range[2] : (pair.key as Node).range![2]
  return end > 0 && text[end - 1] === '\n' ? end : lineEnd(text, end)
}

function replaceRange(text: string, range: readonly number[], replacement: string): string {
  return text.slice(0, range[0]) + replacement + text.slice(range[1])
}

/** The column of a block map's keys. */
function indentOf(text: string, map: YAMLMap): number {
  const first = (map.items as Pair[])[0]
  if (!first) return 0
  const at = (first.key as Node).range![0]
  return at - lineStart(text, at)
}

/** Whether block sequences in this file are indented under their key (`key:\n  - a`) or not (`key:\n- a`). */
function indentSeq(doc: Document, text: string): boolean {
  let result: boolean | undefined
  const visit = (node: unknown): void => {
    if (result !== undefined) return
    if (isMap(node) && !node.flow) {
      for (const p of node.items as Pair[]) {
        const k = p.key as Node
        const col = k.range![0] - lineStart(text, k.range![0])
        if (isSeq(p.value) && !p.value.flow && p.value.range) {
          const at = p.value.range[0]
          result = at - lineStart(text, at) > col
          return
        }

        visit(p.value)
      }
    }
  }

  visit(doc.contents)
  return result ?? false
}

/** A block `key: value` snippet, every line indented by `indent` spaces. */
function renderPair(doc: Document, text: string, key: string, value: unknown, indent: number): string {
  const body = stringify({[key]: value}, {indentSeq: indentSeq(doc, text), lineWidth: 0})
  const pad = ' '.repeat(indent)
  return body.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).map(l => pad + l).join('\n') + '\n'
}

function renderFlow(value: unknown): string {
  return stringify(value, {collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0}).trimEnd()
}

/** A JSON file stays JSON (re-indented as it was: by the first indented line). */
function editJson(source: string, edit: (data: Record<string, unknown>) => void): string | undefined {
  let data: unknown
  try {
    data = JSON.parse(source)
  } catch {
    return undefined
  }

  if (!isRecord(data)) return undefined
  edit(data)
  const indent = /\n([\t ]+)"/.exec(source)?.[1] ?? ''
  return JSON.stringify(data, null, indent) + (source.endsWith('\n') ? '\n' : '')
}

function deletePath(data: Record<string, unknown>, path: string[]): void {
  let cur: unknown = data
  for (const seg of path.slice(0, -1)) {
    if (!isRecord(cur)) return
    cur = cur[seg]
  }

  if (isRecord(cur)) delete cur[path.at(-1)!]
}

function replaceWhole(doc: Document, source: string, path: string[], value: unknown): string {
  const js = (doc.toJS() ?? {}) as unknown
  const merged = mergePatch(isRecord(js) ? js : {}, nest(path, value))
  const range = doc.contents?.range
  if (!range) return source + renderPair(doc, source, path[0]!, (merged as Record<string, unknown>)[path[0]!], 0)
  return replaceRange(source, range, renderFlow(merged))
}

function insertPair(doc: Document, source: string, map: YAMLMap, path: string[], value: unknown): string {
  const [key, ...rest] = path
  const nested = nest(rest, value)
  if (map.flow) {
    return replaceRange(source, map.range!, renderFlow(mergePatch(map.toJSON(), {[key!]: nested})))
  }

  const items = map.items as Pair[]
  if (items.length === 0) {
    // An empty block map cannot exist; the parent holds `key:` with a null value (handled by replaceValue).
    return source + renderPair(doc, source, key!, nested, 0)
  }

  const indent = indentOf(source, map)
  const snippet = renderPair(doc, source, key!, nested, indent)
  const keys = items.map(p => keyOf(p))
  const sorted = keys.every((k, i) => i === 0 || keys[i - 1]! <= k)
  const before = sorted ? items.find(p => keyOf(p) > key!) : undefined
  if (before) {
    let at = lineStart(source, (before.key as Node).range![0])
    // Keep comment lines that sit just above the following key with that key.
    while (at > 0) {
      const prev = lineStart(source, at - 1)
      if (!/^\s*#/.test(source.slice(prev, at))) break
      at = prev
    }

    return source.slice(0, at) + snippet + source.slice(at)
  }

  const end = pairEnd(source, items.at(-1)!)
  const sep = end > 0 && source[end - 1] !== '\n' ? '\n' : ''
  return source.slice(0, end) + sep + snippet + source.slice(end)
}

function replaceValue(doc: Document, source: string, pair: Pair, value: unknown): string {
  const node = pair.value as Node | null
  const key = pair.key as Node
  const isCollection = typeof value === 'object' && value !== null
  if (node && isScalar(node) && !isCollection) {
    const [start, end] = node.range!
    // `key:` with nothing after it: the null has no text, so put a space before the new value.
    if (start === end) return source.slice(0, start) + ' ' + renderScalar(node, value) + source.slice(end)
    return replaceRange(source, node.range!, renderScalar(node, value))
  }

  if (node && (isMap(node) || isSeq(node)) && node.flow && isCollection) {
    return replaceRange(source, node.range!, renderFlow(value))
  }

  // Replace everything after `key:` up to the end of the value with the new rendering.
  const colon = source.indexOf(':', key.range![1])
  const end = pairEnd(source, pair)
  const indent = key.range![0] - lineStart(source, key.range![0])
  const rendered = renderPair(doc, source, keyOf(pair), value, indent)
  const afterKey = rendered.slice(rendered.indexOf(':') + 1)
  return source.slice(0, colon + 1) + afterKey + source.slice(end)
}

/** A scalar in the quoting the old one used, when that can carry it. */
function renderScalar(old: Scalar, value: unknown): string {
  if (typeof value === 'string') {
    if (old.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value)
    if (old.type === Scalar.QUOTE_SINGLE && !value.includes('\n')) return `'${value.replaceAll("'", "''")}'`
  }

  return stringify(value, {lineWidth: 0}).trimEnd()
}
