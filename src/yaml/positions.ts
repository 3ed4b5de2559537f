import {loadAll, type Schema, YAMLException} from 'js-yaml'

/**
 * YAML with positions, on js-yaml 4. js-yaml reports every node it composes to a `listener`: on
 * 'open' with the offset where it starts reading the node, on 'close' with the node's value and the
 * offset where it stopped. Nesting the events gives a node tree beside the decoded value; this module
 * builds it and answers questions about it: where a field is (line, column, offset), where a node's
 * own text starts and ends, which keys repeat, whether a collection is written in flow or block style.
 * It only reads; callers that edit a file splice its text at these offsets.
 *
 * THE TREE. Children are in document order: a mapping's keys and values alternately, a sequence's
 * items. Three quirks of js-yaml show in it:
 * - Wrapper nodes. A scalar or flow collection that is a document root or a block sequence item is
 *   read as a candidate key first, so it appears twice: a node with the same value wrapping one child.
 *   Likewise `key: &anchor value` and `key: !!tag value` (a speculative read of the value as a
 *   mapping key) leave one child with the same value under the value node. `resolve()` unwraps.
 * - Aliases. An alias node has the anchored value but no children; `resolve()` follows it to the node
 *   that defined the value.
 * - A trailing empty node. A block mapping that ends at a document marker (`---`, `...`) leaves one
 *   empty node behind, js-yaml's attempt at reading another key; `pairs()` drops it.
 * An empty value (`key:` and nothing) is a node without text; an empty block sequence item (`-` and
 * nothing) has no node at all (`items()` then gives up rather than misnumber the items).
 *
 * START OFFSETS ('open'). For mapping keys, sequence items, flow collection entries and document
 * roots: the node's first character (its anchor or tag if it has one). For the value of a block
 * mapping pair: just after the `:`, before the separating white space, comments and line breaks (and
 * for `? key`, just after the `?`). `contentStart()` skips those.
 *
 * END OFFSETS ('close', clamped to the text's length; js-yaml appends a line break to a text that
 * has none, so at the end of such a text it says one past the end):
 * - quoted scalars, flow collections: just after the closing quote or bracket;
 * - plain scalars: after the last character, or, when a comment follows on the same line, at the `#`
 *   (the white space before it included); a key ends at its `:`;
 * - block scalars (`|`, `>`): on the first line after them that is less indented and not empty, after
 *   its indentation (so at the next key, or at a less indented comment), or at the end of the text;
 *   trailing empty lines are inside;
 * - block mappings and sequences: at the next token after them: the following key or item of an
 *   enclosing collection (after its indentation), a document marker (`---`, `...`, at its line's
 *   start), or the end of the text. Comments and empty lines after the last entry are inside;
 * - aliases: after the white space, comments and line breaks that follow them (at the next token);
 * - empty nodes: at the next token.
 * `contentEnd()` gives the end of a node's own text in every case: just after its last character,
 * without trailing white space, comments or line breaks.
 *
 * Offsets index the text as given. A byte order mark (which js-yaml drops, shifting its offsets by
 * one) is counted in offsets but not in columns. Line breaks are LF, CRLF or a lone CR, as for
 * js-yaml. Lines and columns are 1-based.
 */

export type NodeKind = 'mapping' | 'scalar' | 'sequence'

/** A composed node as the listener saw it. */
export interface YamlNode {
  children: YamlNode[]
  /** Offset where js-yaml stopped reading the node (see END OFFSETS above). */
  end: number
  /** What js-yaml read: null for an alias, an empty node, or a tag without content. */
  kind: NodeKind | null
  /** Offset where js-yaml started reading the node (see START OFFSETS above). */
  start: number
  /** The decoded value, shared with the document's value (an object here is the one in the document). */
  value: unknown
}

/**
 * How a node is written: `block` and `flow` for mappings and sequences, the five scalar styles,
 * an alias, or `empty` for a node with no text.
 */
export type NodeStyle = 'alias' | 'block' | 'double-quoted' | 'empty' | 'flow' | 'folded' | 'literal' | 'plain' | 'single-quoted'

export interface Location {
  /** 1-based, in UTF-16 code units (a byte order mark is not counted). */
  column: number
  /** 1-based. */
  line: number
  offset: number
}

export interface YamlSyntaxError extends Location {
  /**
   * Index of the document the error is in: `documents.length` when js-yaml did not finish reading
   * that document's root node, one less when the error comes after it (`- x` below a mapping:
   * `end of the stream or a document separator is expected`).
   */
  document: number
  /** js-yaml's reason, without its snippet and position: `bad indentation of a mapping entry`. */
  message: string
}

export interface PositionsOptions {
  /**
   * Let duplicate keys through (the last one wins, as with go-yaml and JSON.parse) so that the caller
   * can report them all (`YamlDocument.duplicateKeys()`). Without it a duplicate key is a syntax error.
   */
  json?: boolean
  /** js-yaml's DEFAULT_SCHEMA when not given. */
  schema?: Schema
}

/** One step of a path into a document: the key node (none for a sequence item) and the value node as written. */
export interface PathStep {
  key?: YamlNode
  /** The collection holding the entry (resolved: not a wrapper or an alias). */
  parent: YamlNode
  value: YamlNode
}

/** Parse every document of a text with the node tree, the syntax error if any, and positions. */
export function parseWithPositions(text: string, options: PositionsOptions = {}): YamlFile {
  const bom = text.codePointAt(0) === 0xFE_FF ? 1 : 0
  const source = bom ? text.slice(1) : text
  const max = text.length
  const roots: YamlNode[] = []
  const stack: YamlNode[] = []
  let error: undefined | YamlSyntaxError
  try {
    loadAll(source, undefined, {
      json: options.json ?? false,
      listener(event, state) {
        if (event === 'open') {
          stack.push({
            children: [], end: 0, kind: null, start: state.position + bom, value: undefined,
          })
          return
        }

        const node = stack.pop()!
        node.end = Math.min(state.position + bom, max)
        node.kind = (state.kind as NodeKind | null) ?? null
        node.value = state.result;
        (stack.at(-1)?.children ?? roots).push(node)
      },
      schema: options.schema,
    })
  } catch (error_) {
    if (!(error_ instanceof YAMLException)) throw error_
    const {mark, reason} = error_ as Partial<YAMLException>
    const offset = Math.min((mark?.position ?? 0) + bom, max)
    // Outside any node, after a finished root with nothing but space and comments in between, the
    // error is in that root's document; else (after a `...` marker) it is in the next one.
    const last = roots.at(-1)
    const after = stack.length === 0 && last !== undefined && skipSpace(text, last.end, offset) >= offset
    // js-yaml's own line and column: at the end of a text without a final line break, it places the
    // error on the line after the last (on the line break it added).
    error = {
      column: (mark?.column ?? 0) + 1,
      document: after ? roots.length - 1 : roots.length,
      line: (mark?.line ?? 0) + 1,
      message: reason ?? error_.message,
      offset,
    }
  }

  return new YamlFile(text, bom, roots, error)
}

export class YamlFile {
  /**
   * One per document whose root node js-yaml finished reading. With a syntax error, the error is in
   * the document after these, or in the last of them after its root node (`error.document` says which).
   */
  readonly documents: YamlDocument[]
  readonly error: undefined | YamlSyntaxError
  readonly text: string
  private readonly bom: number
  private starts: number[] | undefined

  constructor(text: string, bom: number, roots: YamlNode[], error: undefined | YamlSyntaxError) {
    this.text = text
    this.bom = bom
    this.error = error
    this.documents = roots.map((root, index) => new YamlDocument(this, root, index))
  }

  /** Just after a node's last character: no trailing white space, comments or line breaks. */
  contentEnd(node: YamlNode): number {
    const {text} = this
    const style = this.style(node)
    switch (style) {
    case 'alias': {
      let at = this.contentStart(node) + 1
      while (at < node.end && !isSpace(text[at]) && !isFlowIndicator(text[at])) at++
      return at
    }

    case 'block': {
      // After the last entry's text, only an entry without a node can follow (a bare `-`).
      const inner = unwrap(node)
      const last = pairsOf(this, inner)?.at(-1)?.[1] ?? inner.children.at(-1)
      return this.textEnd(last ? this.contentEnd(last) : this.contentStart(node), node.end)
    }

    case 'double-quoted':
    case 'flow':
    case 'single-quoted': {
      return node.end
    }

    case 'empty': {
      return node.start
    }

    case 'folded':
    case 'literal': {
      // The header (`|-`, `>2` …), then content lines; a header comment is not content.
      let header = this.skipProperties(this.contentStart(node))
      while (header < node.end && /[|>+\-\d]/.test(text[header]!)) header++
      const end = this.trimEnd(header, node.end)
      return end <= this.lineBreakAt(header) ? header : end
    }

    case 'plain': {
      // ` #` starts a comment; js-yaml lets a multi-line plain scalar go on after a comment line.
      return this.textEnd(this.contentStart(node), node.end)
    }
    }
  }

  /** Where a node's own text starts: its anchor, tag or first character; its start when it has no text. */
  contentStart(node: YamlNode): number {
    const at = this.skipSpace(node.start, node.end)
    return at >= node.end && node.kind === null ? node.start : at
  }

  /** Line of an offset, the number of spaces that start it. */
  indentation(offset: number): number {
    const start = this.lineStart(offset)
    let at = start
    while (this.text[at] === ' ') at++
    return at - start
  }

  /** A node without text: `key:` with nothing after it, an empty document. */
  isEmpty(node: YamlNode): boolean {
    return node.kind === null && this.skipSpace(node.start, node.end) >= node.end
  }

  /** Offset just past the line break that ends the line holding an offset (or the text's end). */
  lineEnd(offset: number): number {
    const {text} = this
    for (let at = offset; at < text.length; at++) {
      const ch = text[at]
      if (ch === '\n') return at + 1
      if (ch === '\r') return text[at + 1] === '\n' ? at + 2 : at + 1
    }

    return text.length
  }

  /** Offset of the start of the line holding an offset. */
  lineStart(offset: number): number {
    const starts = this.lineStarts()
    return starts[lineIndex(starts, offset)]!
  }

  /** Line and column of an offset. */
  position(offset: number): Location {
    const starts = this.lineStarts()
    const index = lineIndex(starts, offset)
    const column = offset - starts[index]! + 1 - (index === 0 ? this.bom : 0)
    return {column: Math.max(column, 1), line: index + 1, offset}
  }

  /** How a node is written (see NodeStyle). */
  style(node: YamlNode): NodeStyle {
    if (this.isEmpty(node)) return 'empty'
    const at = this.skipProperties(this.contentStart(node))
    const ch = this.text[at]
    if (ch === '*' && node.kind === null) return 'alias'
    if (node.kind === 'mapping' || node.kind === 'sequence') {
      // A flow collection's entries start after its bracket; a block mapping may start with a flow key.
      const inner = unwrap(node)
      const flow = (ch === '{' || ch === '[') && (inner.children[0]?.start ?? Number.POSITIVE_INFINITY) > at
      return flow ? 'flow' : 'block'
    }

    switch (ch) {
    case '"': {
      return 'double-quoted'
    }

    case '\'': {
      return 'single-quoted'
    }

    case '>': {
      return node.kind === 'scalar' ? 'folded' : 'plain'
    }

    case '|': {
      return node.kind === 'scalar' ? 'literal' : 'plain'
    }

    default: {
      return 'plain'
    }
    }
  }

  /** The offset of the line break ending the line that holds an offset (or the text's end). */
  private lineBreakAt(offset: number): number {
    const end = this.lineEnd(offset)
    let at = end
    while (at > offset && (this.text[at - 1] === '\n' || this.text[at - 1] === '\r')) at--
    return at
  }

  private lineStarts(): number[] {
    if (!this.starts) {
      const starts = [0]
      const breaks = /\r\n?|\n/g
      for (let match = breaks.exec(this.text); match; match = breaks.exec(this.text)) starts.push(match.index + match[0].length)
      this.starts = starts
    }

    return this.starts
  }

  /** Past anchors and tags (`&a !!str value`) and the space after them. */
  private skipProperties(offset: number): number {
    const {text} = this
    let at = offset
    while (text[at] === '&' || text[at] === '!') {
      while (at < text.length && !isSpace(text[at]) && !isFlowIndicator(text[at])) at++
      at = this.skipSpace(at, text.length)
    }

    return at
  }

  /** Past white space, line breaks and comments, up to `limit`. */
  private skipSpace(offset: number, limit: number): number {
    return skipSpace(this.text, offset, limit)
  }

  /** Just after the last character from `offset` to `limit` that is not white space or in a comment; `offset` if none. */
  private textEnd(offset: number, limit: number): number {
    const {text} = this
    let last = offset
    for (let at = offset; at < limit; at++) {
      const ch = text[at]
      if (ch === '#' && (at === 0 || isSpace(text[at - 1]))) {
        while (at < limit && !isLineBreak(text[at])) at++
      } else if (!isSpace(ch)) last = at + 1
    }

    return last
  }

  /** Back from `end` over white space and line breaks, not before `floor`. */
  private trimEnd(floor: number, end: number): number {
    let at = end
    while (at > floor && isSpace(this.text[at - 1])) at--
    return at
  }
}

export class YamlDocument {
  readonly file: YamlFile
  readonly index: number
  readonly root: YamlNode
  private definitions: Map<unknown, YamlNode> | undefined

  constructor(file: YamlFile, root: YamlNode, index: number) {
    this.file = file
    this.root = root
    this.index = index
  }

  /** Where findings about the whole document go: its first key or item, else its root. */
  get start(): number {
    return this.root.children[0]?.start ?? this.root.start
  }

  /** The document as plain data. */
  get value(): unknown {
    return this.root.value
  }

  /**
   * Keys that repeat an earlier key of the same mapping, anywhere in the document, in document order
   * (merge keys `<<` excepted). Only a `json: true` parse lets a document have any.
   */
  duplicateKeys(): YamlNode[] {
    const out: YamlNode[] = []
    const visit = (node: YamlNode) => {
      const kv = pairsOf(this.file, node)
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

    visit(this.root)
    return out.sort((a, b) => a.start - b.start)
  }

  /** The items of a sequence node (resolved first); undefined when not a sequence or when an item has no node. */
  items(node: YamlNode): undefined | YamlNode[] {
    const inner = this.resolve(node)
    if (!Array.isArray(inner.value) || inner.children.length !== inner.value.length) return undefined
    return inner.children
  }

  /**
   * Line, column and offset of the key (or sequence item) that a path names, or of its nearest
   * existing ancestor, or of the document's start. A path is a JSON pointer (`/spec/containers/0`)
   * or its segments.
   */
  locate(path: readonly string[] | string): Location {
    const step = this.walk(path).at(-1)
    if (!step) return this.file.position(this.start)
    return this.file.position(this.file.contentStart(this.resolve(step.key ?? step.value)))
  }

  /** The key/value node pairs of a mapping node (resolved first); undefined when not a mapping or unpairable. */
  pairs(node: YamlNode): Array<[YamlNode, YamlNode]> | undefined {
    return pairsOf(this.file, this.resolve(node))
  }

  /**
   * The node that holds a value's structure: unwraps wrapper nodes, and follows an alias to the node
   * that defined its value. Other nodes are their own.
   */
  resolve(node: YamlNode): YamlNode {
    const current = unwrap(node)
    if (current.children.length === 0 && current.value !== null && typeof current.value === 'object') {
      this.definitions ??= definitionsOf(this.root)
      return this.definitions.get(current.value) ?? current
    }

    return current
  }

  /**
   * The steps along a path, as far as it exists in the document (fewer steps than segments when it
   * leaves the document). In a mapping, a key's last occurrence is the one whose value the decoder kept.
   */
  walk(path: readonly string[] | string): PathStep[] {
    const segments = typeof path === 'string' ? splitPointer(path) : path
    const steps: PathStep[] = []
    let parent = this.resolve(this.root)
    for (const segment of segments) {
      let step: PathStep | undefined
      if (Array.isArray(parent.value)) {
        const item = /^(?:0|[1-9]\d*)$/.test(segment) ? this.items(parent)?.[Number(segment)] : undefined
        if (item) step = {parent, value: item}
      } else {
        const pair = pairsOf(this.file, parent)?.findLast(([key]) => String(key.value) === segment)
        if (pair) step = {key: pair[0], parent, value: pair[1]}
      }

      if (!step) break
      steps.push(step)
      parent = this.resolve(step.value)
    }

    return steps
  }
}

/** A wrapper's inner node (see THE TREE); other nodes are their own. */
function unwrap(node: YamlNode): YamlNode {
  let current = node
  while (current.children.length === 1 && current.children[0]!.value === current.value) current = current.children[0]!
  return current
}

function pairsOf(file: YamlFile, node: YamlNode): Array<[YamlNode, YamlNode]> | undefined {
  const {value} = node
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  let {children} = node
  if (children.length % 2 === 1 && file.isEmpty(children.at(-1)!)) children = children.slice(0, -1)
  if (children.length % 2 !== 0) return undefined
  const out: Array<[YamlNode, YamlNode]> = []
  for (let i = 0; i < children.length; i += 2) out.push([children[i]!, children[i + 1]!])
  return out
}

/** For each object or array, the node that first composed it (what an alias refers to). */
function definitionsOf(root: YamlNode): Map<unknown, YamlNode> {
  const out = new Map<unknown, YamlNode>()
  const visit = (node: YamlNode) => {
    if (node.children.length > 0 && node.value !== null && typeof node.value === 'object' && !out.has(node.value)) {
      out.set(node.value, unwrap(node))
    }

    for (const child of node.children) visit(child)
  }

  visit(root)
  return out
}

/** Past white space, line breaks and comments, up to `limit`. */
function skipSpace(text: string, offset: number, limit: number): number {
  let at = offset
  while (at < limit) {
    const ch = text[at]
    if (ch === '#' && (at === 0 || isSpace(text[at - 1]))) {
      while (at < limit && !isLineBreak(text[at])) at++
    } else if (isSpace(ch)) at++
    else break
  }

  return at
}

/** RFC 6901 segments. */
function splitPointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
  .slice(1)
  .split('/')
  .map(s => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

function lineIndex(starts: number[], offset: number): number {
  let lo = 0
  let hi = starts.length - 1
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }

  return lo
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r'
}

function isFlowIndicator(ch: string | undefined): boolean {
  return ch === ',' || ch === '[' || ch === ']' || ch === '{' || ch === '}'
}

function isLineBreak(ch: string | undefined): boolean {
  return ch === '\n' || ch === '\r'
}
