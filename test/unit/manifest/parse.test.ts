import {expect} from 'chai'

import {inspectBytes, MAX_MANIFEST_BYTES, parseManifest} from '../../../src/manifest/parse.js'

describe('parsing manifests with positions', () => {
  it('locates keys and list items by JSON pointer, in YAML and in JSON', () => {
    const yaml = parseManifest('a:\n  b:\n    - x\n    - y: 1\n')
    const doc = yaml.documents[0]!
    expect(doc.locate('/a/b/1/y')).to.deep.equal({column: 7, line: 4})
    expect(doc.locate('/a/b/1')).to.deep.equal({column: 7, line: 4})
    expect(doc.locate('/a/b')).to.deep.equal({column: 3, line: 2})
    // A missing field is placed at its nearest existing ancestor.
    expect(doc.locate('/a/missing/deeper')).to.deep.equal({column: 1, line: 1})

    const json = parseManifest('{\n  "spec": {\n    "containers": [{"name": "web"}]\n  }\n}\n')
    expect(json.documents[0]!.locate('/spec/containers/0/name')).to.deep.equal({column: 21, line: 3})
  })

  it('reads YAML 1.1 as the kubelet does', () => {
    const {documents} = parseManifest('a: yes\nb: 0644\nc: off\n')
    expect(documents[0]!.value).to.deep.equal({a: true, b: 420, c: false})
  })

  it('follows aliases when locating, and drops a trailing empty document', () => {
    const {documents} = parseManifest('base: &b\n  image: nginx\nc: *b\n---\n')
    expect(documents).to.have.length(1)
    expect(documents[0]!.locate('/c/image')).to.deep.equal({column: 3, line: 2})
  })

  it('checks size and binary content before parsing', () => {
    expect(inspectBytes(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 'a'))?.rule).to.equal('file/too-large')
    expect(inspectBytes(Buffer.alloc(MAX_MANIFEST_BYTES, 'a'))).to.equal(undefined)
    expect(inspectBytes(Buffer.from('abc\0def'))?.rule).to.equal('file/binary')
  })
})
