import {loadAll} from 'js-yaml'

import type {Finding} from './types.js'

import {parseWithPositions, type YamlDocument, type YamlNode} from '../yaml/positions.js'
import {KUBE_YAML_READ_SCHEMA} from './yaml.js'

/**
 * Parsing with positions. js-yaml reports every node it composes to a listener, with its offset; the
 * node tree that gives (src/yaml/positions.ts) sits beside the decoded value and is walked when a
 * finding needs a line and column. Building it costs a few object allocations per node, and it is
 * only built when a file fails to load or a finding asks where a field is, so valid files stay fast.
 * JSON files go through the same parser (JSON is YAML) and get positions too.
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
    values = loadAll(text, undefined, {schema: KUBE_YAML_READ_SCHEMA})
  } catch {
    return listeningPass(text)
  }

  // A trailing `---` leaves an empty last document behind; nobody means anything by it.
  while (values.length > 1 && values.at(-1) === null) values.pop()
  if (values.length === 0 || (values.length === 1 && values[0] === null)) return emptyFile()
  // Without an anchor (&) there is no alias, and no document can expand beyond its own text.
  if (text.includes('&') && values.some(value => expandedSize(value, new WeakMap()) > MAX_EXPANDED_NODES)) {
    return listeningPass(text)
  }

  let positioned: ParsedFile | undefined
  return {
    documents: values.map((value, index) => ({
      empty: value === null,
      findings: [],
      index,
      locate(pointer) {
        positioned ??= listeningPass(text)
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
function listeningPass(text: string): ParsedFile {
  // `json: true` lets a duplicated key through (last wins, as go-yaml does); we report it ourselves.
  const file = parseWithPositions(text, {json: true, schema: KUBE_YAML_READ_SCHEMA})
  const position = (offset: number): Position => {
    const {column, line} = file.position(offset)
    return {column, line}
  }

  const syntax: Finding | undefined = file.error && {
    column: file.error.column,
    line: file.error.line,
    message: `YAML syntax error: ${file.error.message}`,
    path: '',
    rule: 'yaml/syntax',
    severity: 'error',
  }

  const roots = [...file.documents]
  while (roots.length > 1 && isEmptyNode(roots.at(-1)!.root)) roots.pop()
  if (!syntax && (roots.length === 0 || (roots.length === 1 && isEmptyNode(roots[0]!.root)))) return emptyFile()

  const documents = roots.map(document => toParsedDocument(document, position))
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

function toParsedDocument(document: YamlDocument, position: (offset: number) => Position): ParsedDocument {
  const findings: Finding[] = []
  for (const node of document.duplicateKeys()) {
    findings.push({
      ...position(node.start),
      message: `duplicate key "${String(node.value)}" (the kubelet keeps only the last one)`,
      path: '',
      rule: 'yaml/duplicate-key',
      severity: 'error',
    })
  }

  const {root} = document
  let {value} = root
  if (expandedSize(root.value, new WeakMap()) > MAX_EXPANDED_NODES) {
    value = undefined
    findings.push({
      ...position(document.start),
      message: `document expands to more than ${MAX_EXPANDED_NODES.toLocaleString('en')} nodes through aliases (an alias bomb?)`,
      path: '',
      rule: 'yaml/alias-limit',
      severity: 'error',
    })
  }

  return {
    empty: isEmptyNode(root),
    findings,
    index: document.index,
    locate(pointer) {
      const {column, line} = document.locate(pointer)
      return {column, line}
    },
    value,
  }
}

/** A document that holds nothing: only comments, `---` alone, or a null. */
function isEmptyNode(node: YamlNode): boolean {
  return node.value === null && node.children.every(child => isEmptyNode(child))
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

/** A finding about a whole file, placed at its start. */
export function fileFinding(rule: string, message: string): Finding {
  return {
    column: 1, line: 1, message, path: '', rule, severity: 'error',
  }
}

export function tooLargeFinding(bytes: number): Finding {
  return fileFinding('file/too-large', `file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; the kubelet refuses manifests over 10 MiB`)
}
