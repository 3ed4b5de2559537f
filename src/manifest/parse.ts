import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from 'yaml'

import type {Finding} from './types.js'

import {splitPointer} from './pointer.js'

/**
 * Parsing with positions. The kubelet decodes manifests with go-yaml (YAML 1.1: `yes` is true, `0644`
 * is octal), so we parse as YAML 1.1 too. JSON files go through the same parser (JSON is YAML), which
 * gives them line and column numbers as well.
 */

/** The kubelet refuses manifests larger than this (maxConfigLength in pkg/kubelet/config/common.go). */
export const MAX_MANIFEST_BYTES = 10 * 1024 * 1024

/** Aliases a document may expand before we call it an alias bomb. Real manifests use none. */
export const MAX_ALIAS_COUNT = 100

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

export function parseManifest(text: string): ParsedFile {
  const lineCounter = new LineCounter()
  const position = (offset: number): Position => {
    const {col, line} = lineCounter.linePos(offset)
    return {column: col, line}
  }

  const stream = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    version: '1.1',
  })
  const docs = [...stream]
  // A trailing `---` leaves an empty last document behind; nobody means anything by it.
  while (docs.length > 1 && isEmpty(docs.at(-1)!)) docs.pop()

  if (docs.length === 0 || (docs.length === 1 && isEmpty(docs[0]!))) {
    return {documents: [], findings: [fileFinding('yaml/empty', 'file has no content (the kubelet cannot load it)')]}
  }

  return {documents: docs.map((doc, index) => toParsedDocument(doc, index, position)), findings: []}
}

function toParsedDocument(doc: Document.Parsed, index: number, position: (offset: number) => Position): ParsedDocument {
  const findings: Finding[] = []
  for (const error of doc.errors) {
    const at = position(error.pos[0])
    const duplicate = error.code === 'DUPLICATE_KEY'
    findings.push({
      ...at,
      message: duplicate ? duplicateKeyMessage(doc, error.pos[0]) : syntaxMessage(error.message),
      path: '',
      rule: duplicate ? 'yaml/duplicate-key' : 'yaml/syntax',
      severity: 'error',
    })
  }

  const start = doc.contents?.range[0] ?? doc.range[0]
  const empty = isEmpty(doc)
  let value: unknown
  if (!empty && !doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) {
    try {
      value = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT})
    } catch (error) {
      findings.push({
        ...position(start),
        message: `document expands too many aliases (${(error as Error).message.toLowerCase()})`,
        path: '',
        rule: 'yaml/alias-limit',
        severity: 'error',
      })
    }
  }

  return {
    empty,
    findings,
    index,
    locate: (pointer) => position(offsetOf(doc, pointer) ?? start),
    value,
  }
}

function isEmpty(doc: Document.Parsed): boolean {
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.errors.length === 0)
}

/** Offset of the key (or sequence item) that a JSON pointer names, or of its nearest existing ancestor. */
function offsetOf(doc: Document.Parsed, pointer: string): number | undefined {
  let node: Node | null | undefined = doc.contents
  let offset = node?.range?.[0]
  for (const segment of splitPointer(pointer)) {
    if (isAlias(node)) node = node.resolve(doc)
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === segment)
      if (!pair) return offset
      offset = (pair.key as Node | null)?.range?.[0] ?? offset
      node = pair.value as Node | null
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | null | undefined
      if (!item?.range) return offset
      offset = item.range[0]
      node = item
    } else {
      return offset
    }
  }

  return offset
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value)
  return undefined
}

function duplicateKeyMessage(doc: Document.Parsed, offset: number): string {
  // The error points at the duplicated key; name it.
  const key = findKeyAt(doc.contents, offset)
  return key === undefined ? 'duplicate key in mapping' : `duplicate key "${key}" (the kubelet keeps only the last one)`
}

function findKeyAt(node: unknown, offset: number): string | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null
      if (key?.range?.[0] === offset) return keyString(key)
      const inner = findKeyAt(pair.value, offset)
      if (inner !== undefined) return inner
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      const inner = findKeyAt(item, offset)
      if (inner !== undefined) return inner
    }
  }

  return undefined
}

function syntaxMessage(message: string): string {
  // yaml's messages end with " at line L, column C:" plus a code excerpt when prettyErrors is on; we
  // turn that off, but keep only the first sentence to be safe.
  const first = message.split('\n')[0] ?? message
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`
}

/** A finding about a whole file, placed at its start. */
export function fileFinding(rule: string, message: string): Finding {
  return {column: 1, line: 1, message, path: '', rule, severity: 'error'}
}

export function tooLargeFinding(bytes: number): Finding {
  return fileFinding('file/too-large', `file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; the kubelet refuses manifests over 10 MiB`)
}
