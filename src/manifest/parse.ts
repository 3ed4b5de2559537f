import {loadAll, type Mark, YAMLException} from 'js-yaml'

import type {Finding} from './types.js'

import {splitPointer} from './pointer.js'
import {KUBE_YAML_SCHEMA} from './yaml.js'

/**
 * Parsing with positions. js-yaml reports every node it composes to a listener, with its offset; we
 * keep that tree beside the decoded value and walk it when a finding needs a line and column. That
 * costs a few object allocations per node and nothing else, so valid files stay fast. JSON files go
 * through the same parser (JSON is YAML) and get positions too.
 */

/** The kubelet refuses manifests larger than this (maxConfigLength in pkg/kubelet/config/common.go). */
export const MAX_MANIFEST_BYTES = 10 * 1024 * 1024

/**
 * How many nodes a document may expand to through aliases. js-yaml shares aliased objects instead of
 * copying them, so a "billion laughs" document loads quickly — but anything that walks it (the
 * schema check, the API server) would expand it. Real manifests have a few hundred nodes.
 */
export const MAX_EXPANDED_NODES = 100_000

export interface Position {
  column: number
  line: number
}

/** A finding whose position is not known yet: rules name the field, the locator finds it. */
export interface RawFinding {
  message: string
  path: string
  rule: string
  severity?: Finding['severity']
}

export interface ParsedDocument {
  /** True when the document holds nothing (only comments, or `---` alone). */
  empty: boolean
  /** Syntax-level findings, already located. */
  findings: Finding[]
  index: number
  /** 1-based line and column of the field a JSON pointer names, or of its nearest existing ancestor. */
  locate(pointer: string): Position
  /** The document as plain data; undefined when it could not be built (syntax error, alias bomb). */
  value: unknown
}

export interface ParsedFile {
  documents: ParsedDocument[]
  /** Findings about the file as a whole (empty file). */
  findings: Finding[]
}

/** A composed node as the listener saw it: where it starts, what it became, and its child nodes. */
interface YamlNode {
  children: YamlNode[]
  start: number
  value: unknown
}

/** Checks on raw bytes that come before parsing: the kubelet's size limit, binary content. */
export function inspectBytes(bytes: Buffer): Finding | undefined {
  if (bytes.length > MAX_MANIFEST_BYTES) return tooLargeFinding(bytes.length)
  const head = bytes.subarray(0, 8192)
  if (head.includes(0)) return fileFinding('file/binary', 'file is binary (it contains NUL bytes), not a manifest')
  return undefined
}

/**
 * Most manifests are fine, so the first pass only decodes (js-yaml refuses duplicate keys and bad
 * syntax by itself). Positions are worked out by a second, listening pass: at once when the first
 * pass fails, else only when a finding asks where a field is.
 */
export function parseManifest(input: string): ParsedFile {
  // js-yaml drops a byte order mark itself, which would shift every offset by one; drop it first.
  const text = input.codePointAt(0) === 0xFE_FF ? input.slice(1) : input
  let values: unknown[]
  try {
    values = loadAll(text, undefined, {schema: KUBE_YAML_SCHEMA})
  } catch {
    return parseWithPositions(text)
  }

  // A trailing `---` leaves an empty last document behind; nobody means anything by it.
  while (values.length > 1 && values.at(-1) === null) values.pop()
  if (values.length === 0 || (values.length === 1 && values[0] === null)) return emptyFile()
  if (values.some(value => expandedSize(value, new WeakMap()) > MAX_EXPANDED_NODES)) return parseWithPositions(text)

  let positioned: ParsedFile | undefined
  return {
    documents: values.map((value, index) => ({
      empty: value === null,
      findings: [],
      index,
      locate(pointer) {
        positioned ??= parseWithPositions(text)
        return positioned.documents[index]?.locate(pointer) ?? {column: 1, line: 1}
      },
      value,
    })),
    findings: [],
  }
}

function emptyFile(): ParsedFile {
  return {documents: [], findings: [fileFinding('yaml/empty', 'file has no content (the kubelet cannot load it)')]}
}

/** The listening pass: every node with its offset, duplicate keys, and the syntax error if any. */
function parseWithPositions(text: string): ParsedFile {
  const lines = lineStarts(text)
  const position = (offset: number): Position => toPosition(lines, offset)

  const roots: YamlNode[] = []
  const stack: YamlNode[] = []
  let syntax: Finding | undefined
  try {
    loadAll(text, undefined, {
      // `json: true` lets a duplicated key through (last wins, as go-yaml does); we report it ourselves.
      json: true,
      listener(event, state) {
        if (event === 'open') {
          stack.push({children: [], start: state.position, value: undefined})
          return
        }

        const node = stack.pop()!
        node.value = state.result;
        (stack.at(-1)?.children ?? roots).push(node)
      },
      schema: KUBE_YAML_SCHEMA,
    })
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error
    const {mark} = (error as YAMLException & {mark?: Mark})
    syntax = {
      column: (mark?.column ?? 0) + 1,
      line: (mark?.line ?? 0) + 1,
      message: `YAML syntax error: ${(error as {reason?: string}).reason ?? error.message}`,
      path: '',
      rule: 'yaml/syntax',
      severity: 'error',
    }
  }

  while (roots.length > 1 && isEmptyNode(roots.at(-1)!)) roots.pop()
  if (!syntax && (roots.length === 0 || (roots.length === 1 && isEmptyNode(roots[0]!)))) return emptyFile()

  const documents = roots.map((root, index) => toParsedDocument(root, index, position))
  if (syntax) {
    // Documents before the error parsed fine; the error belongs to the one it is in.
    const broken: ParsedDocument = {
      empty: false,
      findings: [syntax],
      index: documents.length,
      locate: () => ({column: syntax.column, line: syntax.line}),
      value: undefined,
    }
    documents.push(broken)
  }

  return {documents, findings: []}
}

function toParsedDocument(root: YamlNode, index: number, position: (offset: number) => Position): ParsedDocument {
  const findings: Finding[] = []
  for (const node of duplicateKeys(root)) {
    findings.push({
      ...position(node.start),
      message: `duplicate key "${String(node.value)}" (the kubelet keeps only the last one)`,
      path: '',
      rule: 'yaml/duplicate-key',
      severity: 'error',
    })
  }

  let definitions: Map<unknown, YamlNode> | undefined
  // Findings about the whole document point at its first key or item, not at comments above it.
  const start = isEmptyNode(root) ? root.start : (root.children[0]?.start ?? root.start)
  let {value} = root
  if (expandedSize(root.value, new WeakMap()) > MAX_EXPANDED_NODES) {
    value = undefined
    findings.push({
      ...position(start),
      message: `document expands to more than ${MAX_EXPANDED_NODES.toLocaleString('en')} nodes through aliases (an alias bomb?)`,
      path: '',
      rule: 'yaml/alias-limit',
      severity: 'error',
    })
  }

  return {
    empty: isEmptyNode(root),
    findings,
    index,
    locate(pointer) {
      definitions ??= definitionsOf(root)
      return position(offsetOf(root, pointer, definitions) ?? start)
    },
    value,
  }
}

function isEmptyNode(node: YamlNode): boolean {
  return node.value === null && node.children.every(child => isEmptyNode(child))
}

/**
 * The key/value child pairs of a mapping node, or undefined when they cannot be paired up. A block
 * mapping that ends at a document marker leaves one empty node behind (js-yaml's attempt at a next
 * key), which is dropped.
 */
function pairs(node: YamlNode): Array<[YamlNode, YamlNode]> | undefined {
  const {value} = node
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  let {children} = node
  if (children.length % 2 === 1 && isEmptyNode(children.at(-1)!)) children = children.slice(0, -1)
  if (children.length % 2 !== 0) return undefined
  const out: Array<[YamlNode, YamlNode]> = []
  for (let i = 0; i < children.length; i += 2) out.push([children[i]!, children[i + 1]!])
  return out
}

/** Offset of the key (or sequence item) that a JSON pointer names, or of its nearest existing ancestor. */
function offsetOf(root: YamlNode, pointer: string, definitions: Map<unknown, YamlNode>): number | undefined {
  let node = resolve(root, definitions)
  let offset: number | undefined
  for (const segment of splitPointer(pointer)) {
    // In a mapping, the last pair with that key is the one whose value the decoder kept.
    const child = Array.isArray(node.value)
      ? node.children[Number(segment)]
      : pairs(node)?.findLast(([key]) => String(key.value) === segment)
    if (!child) return offset
    const [key, value] = Array.isArray(child) ? child : [child, child]
    offset = resolve(key, definitions).start
    node = resolve(value, definitions)
  }

  return offset
}

/**
 * The node that holds a value's structure: js-yaml wraps some nodes in another node with the same
 * value (a document's root, a block sequence item), and an alias node has no children of its own.
 */
function resolve(node: YamlNode, definitions: Map<unknown, YamlNode>): YamlNode {
  let current = node
  while (current.children.length === 1 && current.children[0]!.value === current.value) current = current.children[0]!
  if (current.children.length === 0 && current.value !== null && typeof current.value === 'object') {
    return definitions.get(current.value) ?? current
  }

  return current
}

/** For each object or array, the node that first composed it (what an alias refers to). */
function definitionsOf(root: YamlNode): Map<unknown, YamlNode> {
  const out = new Map<unknown, YamlNode>()
  const visit = (node: YamlNode) => {
    if (node.children.length > 0 && node.value !== null && typeof node.value === 'object' && !out.has(node.value)) {
      let inner = node
      while (inner.children.length === 1 && inner.children[0]!.value === inner.value) inner = inner.children[0]!
      out.set(node.value, inner)
    }

    for (const child of node.children) visit(child)
  }

  visit(root)
  return out
}

/** Keys that repeat an earlier key of the same mapping, anywhere in the document. */
function duplicateKeys(root: YamlNode): YamlNode[] {
  const out: YamlNode[] = []
  const visit = (node: YamlNode) => {
    const kv = pairs(node)
    if (kv) {
      const seen = new Set<string>()
      for (const [key] of kv) {
        const name = String(key.value)
        if (seen.has(name) && name !== '<<') out.push(key)
        seen.add(name)
      }
    }

    for (const child of node.children) visit(child)
  }

  visit(root)
  return out
}

/** Node count of a value with aliases expanded; stops counting once over the limit. */
function expandedSize(value: unknown, memo: WeakMap<object, number>): number {
  if (value === null || typeof value !== 'object') return 1
  const known = memo.get(value)
  if (known !== undefined) return known
  let size = 1
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    size += expandedSize(child, memo)
    if (size > MAX_EXPANDED_NODES) break
  }

  memo.set(value, size)
  return size
}

function lineStarts(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function toPosition(starts: number[], offset: number): Position {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }

  return {column: offset - starts[lo]! + 1, line: lo + 1}
}

/** A finding about a whole file, placed at its start. */
export function fileFinding(rule: string, message: string): Finding {
  return {
    column: 1, line: 1, message, path: '', rule, severity: 'error',
  }
}

export function tooLargeFinding(bytes: number): Finding {
  return fileFinding('file/too-large', `file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; the kubelet refuses manifests over 10 MiB`)
}
