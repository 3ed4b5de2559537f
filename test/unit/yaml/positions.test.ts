import {expect} from 'chai'
import {CORE_SCHEMA} from 'js-yaml'

import {KUBE_YAML_SCHEMA} from '../../../src/manifest/yaml.js'
import {
  parseWithPositions, type YamlDocument, type YamlFile, type YamlNode,
} from '../../../src/yaml/positions.js'

/** The value node at a path (segments), as written. */
function at(doc: YamlDocument, ...path: string[]): YamlNode {
  const steps = doc.walk(path)
  expect(steps, `path ${path.join('.')}`).to.have.length(path.length)
  return steps.at(-1)!.value
}

function keyAt(doc: YamlDocument, ...path: string[]): YamlNode {
  return doc.walk(path).at(-1)!.key!
}

/** The text between a node's js-yaml offsets, and its own text. */
function spans(file: YamlFile, node: YamlNode): {own: string; raw: string} {
  return {own: file.text.slice(file.contentStart(node), file.contentEnd(node)), raw: file.text.slice(node.start, node.end)}
}

function only(text: string, options = {}): {doc: YamlDocument; file: YamlFile} {
  const file = parseWithPositions(text, options)
  expect(file.error).to.equal(undefined)
  expect(file.documents).to.have.length(1)
  return {doc: file.documents[0]!, file}
}

describe('yaml/positions', () => {
  describe('end offsets, as js-yaml reports them on close', () => {
    it('a block scalar ends after the indentation of the next line that is less indented, or at a less indented comment', () => {
      const text = 'a:\n  lit: |\n    one\n    two\n\n  fold: >-\n    x\n  # note\n  next: 1\n'
      const {doc, file} = only(text)
      expect(spans(file, at(doc, 'a', 'lit'))).to.deep.equal({own: '|\n    one\n    two', raw: ' |\n    one\n    two\n\n  '})
      expect(file.text.slice(at(doc, 'a', 'lit').end).startsWith('fold:')).to.equal(true)
      expect(spans(file, at(doc, 'a', 'fold'))).to.deep.equal({own: '>-\n    x', raw: ' >-\n    x\n  '})
      expect(file.text.slice(at(doc, 'a', 'fold').end).startsWith('# note')).to.equal(true)
      expect(file.style(at(doc, 'a', 'lit'))).to.equal('literal')
      expect(file.style(at(doc, 'a', 'fold'))).to.equal('folded')
    })

    it('a block scalar at the end of the text ends there; a header comment is not content', () => {
      const {doc, file} = only('a: |  # header\nb: |+\n  keep\n\n')
      expect(spans(file, at(doc, 'a')).own).to.equal('|')
      expect(at(doc, 'b').end).to.equal(file.text.length)
      expect(spans(file, at(doc, 'b')).own).to.equal('|+\n  keep')
      expect(at(doc, 'b').value).to.equal('keep\n\n')
    })

    it('a flow collection ends just after its bracket, even across lines and before a comment', () => {
      const {doc, file} = only('a: [1,\n  2]  # two\nb: {x: {y: z}}\n')
      expect(spans(file, at(doc, 'a'))).to.deep.equal({own: '[1,\n  2]', raw: ' [1,\n  2]'})
      expect(spans(file, at(doc, 'b'))).to.deep.equal({own: '{x: {y: z}}', raw: ' {x: {y: z}}'})
      expect(spans(file, at(doc, 'b', 'x')).own).to.equal('{y: z}')
      expect(file.style(at(doc, 'a'))).to.equal('flow')
      expect(file.style(at(doc, 'b'))).to.equal('flow')
    })

    it('a block mapping or sequence at the end of the text ends there (js-yaml says one further when the text has no final line break)', () => {
      for (const text of ['a:\n  b: 1\n  c:\n  - x\n  - y', 'a:\n  b: 1\n  c:\n  - x\n  - y\n']) {
        const {doc, file} = only(text)
        expect(doc.root.end).to.equal(text.length)
        expect(at(doc, 'a').end).to.equal(text.length)
        expect(at(doc, 'a', 'c').end).to.equal(text.length)
        expect(file.contentEnd(doc.root)).to.equal(text.trimEnd().length)
        expect(spans(file, at(doc, 'a', 'c')).own).to.equal('- x\n  - y')
      }
    })

    it('a nested block mapping ends at the following key, after its indentation, with trailing comments inside', () => {
      const text = 'top:\n  inner:\n    a: 1\n    # trailing\n\n  after: 2\nlast: 3\n'
      const {doc, file} = only(text)
      const inner = at(doc, 'top', 'inner')
      expect(inner.end).to.equal(text.indexOf('after'))
      expect(spans(file, inner)).to.deep.equal({own: 'a: 1', raw: '\n    a: 1\n    # trailing\n\n  '})
      expect(at(doc, 'top').end).to.equal(text.indexOf('last'))
      expect(spans(file, at(doc, 'top')).own).to.equal('inner:\n    a: 1\n    # trailing\n\n  after: 2')
    })

    it('a block mapping ends at a document marker, leaving an empty node that pairs() drops', () => {
      const text = 'a: 1\nb:\n  - x\n# end\n---\nc: 2\n...\n'
      const file = parseWithPositions(text)
      expect(file.documents).to.have.length(2)
      const [first, second] = file.documents as [YamlDocument, YamlDocument]
      expect(first.root.end).to.equal(text.indexOf('---'))
      expect(first.root.children).to.have.length(5)
      expect(file.isEmpty(first.root.children[4]!)).to.equal(true)
      expect(first.pairs(first.root)?.map(([key]) => key.value)).to.deep.equal(['a', 'b'])
      expect(spans(file, first.root).own).to.equal('a: 1\nb:\n  - x')
      expect(second.root.end).to.equal(text.indexOf('...'))
      expect(second.pairs(second.root)?.map(([key]) => key.value)).to.deep.equal(['c'])
    })

    it('a plain scalar ends at the # of a comment after it, its own text before the spaces', () => {
      const {doc, file} = only('a: some text   # comment\nb: multi\n  line # c\nc: 1\n')
      expect(spans(file, at(doc, 'a'))).to.deep.equal({own: 'some text', raw: ' some text   '})
      expect(spans(file, at(doc, 'b')).own).to.equal('multi\n  line')
      expect(at(doc, 'b').value).to.equal('multi line')
      expect(spans(file, keyAt(doc, 'a'))).to.deep.equal({own: 'a', raw: 'a'})
    })

    it('quoted scalars end after the closing quote; an empty value is a node without text', () => {
      const {doc, file} = only('a: "x\\"y"  # c\nb: \'it\'\'s\'\nc:\nd:   # nothing\ne: 1\n')
      expect(spans(file, at(doc, 'a')).own).to.equal(String.raw`"x\"y"`)
      expect(file.style(at(doc, 'a'))).to.equal('double-quoted')
      expect(spans(file, at(doc, 'b')).own).to.equal('\'it\'\'s\'')
      expect(file.style(at(doc, 'b'))).to.equal('single-quoted')
      for (const key of ['c', 'd']) {
        const empty = at(doc, key)
        expect(file.isEmpty(empty)).to.equal(true)
        expect(file.style(empty)).to.equal('empty')
        expect(file.text[file.contentStart(empty) - 1]).to.equal(':')
        expect(file.contentEnd(empty)).to.equal(file.contentStart(empty))
      }
    })
  })

  describe('start offsets', () => {
    it('a block mapping value opens just after the colon; contentStart skips spaces, comments and line breaks', () => {
      const text = 'a:    # about a\n  # more\n  b: 1\nc: &anchor\n  d: 1\n'
      const {doc, file} = only(text)
      const a = at(doc, 'a')
      expect(a.start).to.equal(2)
      expect(file.contentStart(a)).to.equal(text.indexOf('b: 1'))
      expect(file.contentStart(at(doc, 'c'))).to.equal(text.indexOf('&anchor'))
      expect(file.style(at(doc, 'c'))).to.equal('block')
      expect(file.contentStart(keyAt(doc, 'c'))).to.equal(text.indexOf('c:'))
    })

    it('a document root starts at its first token, after comments and ---', () => {
      const text = '# header\n---\n# about\nkind: Pod\n'
      const {doc, file} = only(text)
      expect(doc.root.start).to.equal(text.indexOf('kind'))
      expect(doc.start).to.equal(text.indexOf('kind'))
      expect(file.position(doc.start)).to.deep.equal({column: 1, line: 4, offset: text.indexOf('kind')})
    })
  })

  describe('flow and block', () => {
    it('tells flow collections from block ones, including a block mapping whose first key is a flow collection', () => {
      const {doc, file} = only('a: {}\nb: []\nc:\n  - 1\nd:\n  [x]: 1\ne: !!map {k: v}\n')
      expect(['a', 'b', 'c', 'd', 'e'].map(key => file.style(at(doc, key)))).to.deep.equal(['flow', 'flow', 'block', 'block', 'flow'])
    })

    it('unwraps the wrapper nodes of a flow root and of sequence items', () => {
      const {doc, file} = only('[a, {b: 1}]\n')
      expect(doc.root.children).to.have.length(1)
      expect(file.style(doc.root)).to.equal('flow')
      expect(doc.items(doc.root)?.map(item => spans(file, item).own)).to.deep.equal(['a', '{b: 1}'])
      const block = only('- a\n- b: 1\n').doc
      expect(block.items(block.root)?.map(item => item.value)).to.deep.equal(['a', {b: 1}])
    })

    it('gives up on the items of a sequence with an empty entry rather than misnumber them', () => {
      const {doc} = only('- \n- b\n')
      expect(doc.value).to.deep.equal([null, 'b'])
      expect(doc.items(doc.root)).to.equal(undefined)
      expect(doc.walk('/1')).to.deep.equal([])
    })
  })

  describe('aliases', () => {
    const text = 'base: &base\n  image: nginx\n  ports: [80]\nfirst: *base\nlist:\n- *base\nname: &n x\nother: *n\n'

    it('resolves an alias to the node that defined its value, and locates through it', () => {
      const {doc, file} = only(text)
      const first = at(doc, 'first')
      expect(file.style(first)).to.equal('alias')
      expect(spans(file, first)).to.deep.equal({own: '*base', raw: ' *base\n'})
      expect(doc.resolve(first)).to.equal(doc.resolve(at(doc, 'base')))
      expect(doc.locate('/first/ports')).to.deep.equal({column: 3, line: 3, offset: text.indexOf('ports')})
      expect(doc.locate('/list/0/image')).to.deep.equal({column: 3, line: 2, offset: text.indexOf('image')})
      expect(spans(file, at(doc, 'list', '0')).own).to.equal('*base')
    })

    it('keeps an alias of a scalar as the alias node', () => {
      const {doc, file} = only(text)
      const other = at(doc, 'other')
      expect(other.value).to.equal('x')
      expect(doc.resolve(other)).to.equal(other)
      expect(spans(file, other).own).to.equal('*n')
      expect(spans(file, at(doc, 'name')).own).to.equal('&n x')
    })
  })

  describe('documents and errors', () => {
    it('parses every document; locate works per document', () => {
      const text = 'a: 1\n---\nb:\n  c: [x, y]\n'
      const file = parseWithPositions(text)
      expect(file.documents.map(doc => doc.value)).to.deep.equal([{a: 1}, {b: {c: ['x', 'y']}}])
      expect(file.documents.map(doc => doc.index)).to.deep.equal([0, 1])
      expect(file.documents[1]!.locate('/b/c/1')).to.deep.equal({column: 10, line: 4, offset: text.indexOf('y]')})
    })

    it('locates the nearest existing ancestor of a missing field, else the document start', () => {
      const text = '# c\nspec:\n  containers:\n  - name: a\n'
      const {doc} = only(text)
      expect(doc.locate('/spec/containers/0/image')).to.deep.equal({column: 5, line: 4, offset: text.indexOf('name')})
      expect(doc.locate('/spec/containers/3')).to.deep.equal({column: 3, line: 3, offset: text.indexOf('containers')})
      expect(doc.locate('/status')).to.deep.equal({column: 1, line: 2, offset: text.indexOf('spec')})
      expect(doc.locate(['spec', 'containers'])).to.deep.equal(doc.locate('/spec/containers'))
    })

    it('unescapes JSON pointer segments', () => {
      const text = 'a/b:\n  c~d: 1\n'
      const {doc} = only(text)
      expect(doc.locate('/a~1b/c~0d').offset).to.equal(text.indexOf('c~d'))
    })

    it('reports a syntax error with js-yaml\'s line and column, keeping the documents before it', () => {
      const text = 'a: 1\n---\nb: [1,\nc: 2\n'
      const file = parseWithPositions(text)
      expect(file.documents.map(doc => doc.value)).to.deep.equal([{a: 1}])
      expect(file.error).to.include({
        column: 1, document: 1, line: 5, offset: text.length,
      })
      expect(file.error!.message).to.match(/^[a-z]/)
      expect(file.error!.message).to.not.include('\n')
      // At the end of a text without a final line break, js-yaml places the error after it.
      expect(parseWithPositions('a: [1').error).to.deep.include({column: 1, line: 2, offset: 5})
    })

    it('tells which document a syntax error is in, also when it comes after a finished root', () => {
      const after = parseWithPositions('apiVersion: v1\nkind: Pod\n# c\n- x\n')
      expect(after.documents.map(doc => doc.value)).to.deep.equal([{apiVersion: 'v1', kind: 'Pod'}])
      expect(after.error).to.deep.equal({
        column: 1, document: 0, line: 4, message: 'end of the stream or a document separator is expected', offset: 29,
      })
      const next = parseWithPositions('a: 1\n...\n%YAML 1.2\nb\n')
      expect(next.documents).to.have.length(1)
      expect(next.error).to.include({document: 1, line: 4, message: 'directives end mark is expected'})
      expect(parseWithPositions('a: \0').error).to.include({document: 0, message: 'null byte is not allowed in input'})
    })

    it('refuses duplicate keys unless json is set, then lists them', () => {
      const text = 'a: 1\nb:\n  x: 1\n  x: 2\na: 3\n'
      expect(parseWithPositions(text).error?.message).to.include('duplicated mapping key')
      const {doc, file} = only(text, {json: true})
      expect(doc.value).to.deep.equal({a: 3, b: {x: 2}})
      expect(doc.duplicateKeys().map(key => file.position(key.start))).to.deep.equal([
        {column: 3, line: 4, offset: text.indexOf('x: 2')},
        {column: 1, line: 5, offset: text.indexOf('a: 3')},
      ])
      expect(doc.locate('/a').line).to.equal(5)
    })

    it('decodes with the schema it is given', () => {
      const text = 'a: yes\nb: 0644\nc: 2024-01-01\n'
      expect(only(text).doc.value).to.deep.equal({a: 'yes', b: 644, c: new Date('2024-01-01')})
      expect(only(text, {schema: CORE_SCHEMA}).doc.value).to.deep.equal({a: 'yes', b: 644, c: '2024-01-01'})
      expect(only(text, {schema: KUBE_YAML_SCHEMA}).doc.value).to.deep.equal({a: true, b: 420, c: '2024-01-01'})
    })
  })

  describe('text and lines', () => {
    it('counts a byte order mark in offsets but not in columns', () => {
      const text = '\uFEFFa: 1\nb: [x]\n'
      const {doc, file} = only(text)
      expect(file.text).to.equal(text)
      expect(keyAt(doc, 'a').start).to.equal(1)
      expect(doc.locate('/a')).to.deep.equal({column: 1, line: 1, offset: 1})
      expect(doc.locate('/b/0')).to.deep.equal({column: 5, line: 2, offset: text.indexOf('x')})
      expect(spans(file, at(doc, 'a')).own).to.equal('1')
      expect(parseWithPositions('\uFEFFa: [').error).to.deep.include({column: 1, line: 2, offset: 5})
    })

    it('reads CRLF line breaks: lines, columns and ends leave the CR out', () => {
      const text = 'a: 1\r\nb:\r\n  c: x  # c\r\n  d: |\r\n    text\r\n\r\ne: [1]\r\n'
      const {doc, file} = only(text)
      expect(doc.value).to.deep.equal({a: 1, b: {c: 'x', d: 'text\n'}, e: [1]})
      expect(doc.locate('/b/d')).to.deep.equal({column: 3, line: 4, offset: text.indexOf('d:')})
      expect(spans(file, at(doc, 'b', 'd')).own).to.equal('|\r\n    text')
      expect(spans(file, at(doc, 'b')).own).to.equal('c: x  # c\r\n  d: |\r\n    text')
      expect(file.lineEnd(text.indexOf('c:'))).to.equal(text.indexOf('  d:'))
      expect(file.lineStart(text.indexOf('x  #'))).to.equal(text.indexOf('  c:'))
      expect(file.indentation(text.indexOf('text'))).to.equal(4)
    })

    it('counts a lone CR as a line break, as js-yaml does', () => {
      const {doc, file} = only('a: 1\rb: 2\r')
      expect(doc.locate('/b')).to.deep.equal({column: 1, line: 2, offset: 5})
      expect(file.lineEnd(0)).to.equal(5)
    })

    it('walks a path step by step: key, value and the collection holding them', () => {
      const text = 'spec:\n  containers:\n  - name: a\n    ports: [{containerPort: 80}]\n'
      const {doc, file} = only(text)
      const steps = doc.walk('/spec/containers/0/ports/0/containerPort')
      expect(steps.map(step => step.key && step.key.value)).to.deep.equal(['spec', 'containers', undefined, 'ports', undefined, 'containerPort'])
      expect(steps.map(step => spans(file, step.value).own)).to.deep.equal([
        'containers:\n  - name: a\n    ports: [{containerPort: 80}]',
        '- name: a\n    ports: [{containerPort: 80}]',
        'name: a\n    ports: [{containerPort: 80}]',
        '[{containerPort: 80}]',
        '{containerPort: 80}',
        '80',
      ])
      expect(file.style(steps[4]!.parent)).to.equal('flow')
      expect(doc.walk('/spec/volumes/0')).to.have.length(1)
    })

    it('reads JSON, with positions', () => {
      const text = '{\n  "kind": "Pod",\n  "spec": {"containers": [{"name": "a"}]}\n}\n'
      const {doc, file} = only(text, {json: true})
      expect(doc.locate('/spec/containers/0/name')).to.deep.equal({column: 28, line: 3, offset: text.indexOf('"name"')})
      expect(file.style(doc.root)).to.equal('flow')
      expect(spans(file, doc.root).own).to.equal(text.trimEnd())
    })

    it('has an empty document for a text of comments only', () => {
      const file = parseWithPositions('# nothing\n')
      expect(file.documents).to.have.length(1)
      expect(file.isEmpty(file.documents[0]!.root)).to.equal(true)
      expect(file.documents[0]!.value).to.equal(null)
      expect(parseWithPositions('').documents).to.deep.equal([])
    })
  })
})
