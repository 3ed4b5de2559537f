import {expect} from 'chai'

import type {ValidateResult} from '../../../src/manifest/types.js'

import {
  attr, renderValidateJunit, testcaseName, text,
} from '../../../src/output/validate-junit.js'
import {realisticResult} from './fixture.js'
import {childrenNamed, parseXml, type XmlElement} from './xml.js'

function only(node: undefined | XmlElement, name: string): XmlElement {
  const found = node ? childrenNamed(node, name) : []
  expect(found, `<${name}> in <${node?.name}>`).to.have.length(1)
  return found[0] as XmlElement
}

describe('validate junit output', () => {
  const xml = renderValidateJunit(realisticResult())
  const root = parseXml(xml)
  const suites = childrenNamed(root, 'testsuite')
  const suiteFor = (name: string) => suites.find(s => s.attributes.name === name)

  it('is well-formed XML 1.0 with a declaration and a <testsuites> root', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).to.equal(true)
    expect(root.name).to.equal('testsuites')
    expect(root.attributes).to.deep.equal({
      errors: '1', failures: '2', name: 'staticpod validate', tests: '4',
    })
  })

  it('has one <testsuite> per file, sorted by file, with counts of its documents', () => {
    expect(suites.map(s => s.attributes.name)).to.deep.equal([
      '<stdin>',
      'manifests/broken.yaml',
      'manifests/etcd.yaml',
      'manifests/kube-apiserver.yaml',
    ])
    expect(suites.map(s => [s.attributes.tests, s.attributes.failures, s.attributes.errors])).to.deep.equal([
      ['1', '1', '0'],
      ['1', '0', '1'],
      ['1', '1', '0'],
      ['1', '0', '0'],
    ])
    for (const s of suites) expect(childrenNamed(s, 'testcase')).to.have.length(Number(s.attributes.tests))
  })

  it('passes a valid document: an empty <testcase> named after the pod', () => {
    const testcase = only(suiteFor('manifests/kube-apiserver.yaml'), 'testcase')
    expect(testcase.attributes).to.deep.equal({
      classname: 'manifests/kube-apiserver.yaml',
      file: 'manifests/kube-apiserver.yaml',
      name: 'Pod kube-system/kube-apiserver (document 0)',
    })
    expect(testcase.children).to.deep.equal([])
  })

  it('fails an invalid document with one <failure> per error and puts warnings in <system-out>', () => {
    const testcase = only(suiteFor('manifests/etcd.yaml'), 'testcase')
    expect(testcase.attributes.name).to.equal('Pod kube-system/etcd (document 0)')
    const failure = only(testcase, 'failure')
    expect(failure.attributes).to.deep.equal({
      message: 'unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
      type: 'schema/unknown-field',
    })
    expect(failure.text).to.equal('manifests/etcd.yaml:14:5 schema/unknown-field unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)')
    expect(only(testcase, 'system-out').text).to.equal("manifests/etcd.yaml:8:3: warning static-pod/overwritten-field: spec.nodeName is set; the kubelet overwrites it with the node's name")
  })

  it('reports an unparseable file as <error>, not <failure>', () => {
    const testcase = only(suiteFor('manifests/broken.yaml'), 'testcase')
    expect(testcase.attributes.name).to.equal('document 0')
    expect(childrenNamed(testcase, 'failure')).to.have.length(0)
    const error = only(testcase, 'error')
    expect(error.attributes.type).to.equal('yaml/syntax')
    expect(error.text).to.equal('manifests/broken.yaml:5:9 yaml/syntax YAML syntax error: Nested mappings are not allowed in compact mappings')
  })

  it('escapes <&"\' and replaces the control character XML 1.0 forbids, for stdin without a file attribute', () => {
    const testcase = only(suiteFor('<stdin>'), 'testcase')
    expect(testcase.attributes).to.deep.equal({classname: '<stdin>', name: 'Pod static-web (document 0)'})
    const failure = only(testcase, 'failure')
    expect(failure.attributes.message).to.equal(String.raw`label value "<db & 'cache'>\u0007" is not a valid label value`)
    expect(failure.text).to.equal(String.raw`<stdin>:6:11 api/label label value "<db & 'cache'>\u0007" is not a valid label value`)
    expect(xml).to.include(String.raw`message="label value &quot;&lt;db &amp; &apos;cache&apos;&gt;\u0007&quot; is not a valid label value"`)
    expect(xml).not.to.include('\u0007')
  })

  it('keeps tabs, newlines and carriage returns through a parser, and drops nothing else', () => {
    const tricky = 'a\tb\nc\rd ]]> \uFFFE \uD800 \u{1F600} é'
    const result: ValidateResult = {
      results: [
        {
          document: 2,
          file: 'dir/x&y.yaml',
          findings: [{
            column: 1, line: 3, message: tricky, path: '', rule: 'r"1', severity: 'error',
          }],
          kind: 'Pod',
          name: 'p',
          status: 'invalid',
        },
      ],
      summary: {
        documents: 1, errors: 0, files: 1, invalid: 1, valid: 0,
      },
    }
    const failure = only(only(only(parseXml(renderValidateJunit(result)), 'testsuite'), 'testcase'), 'failure')
    const expected = String.raw`a` + '\tb\nc\rd ]]> ' + String.raw`\uFFFE \uD800` + ' \u{1F600} é'
    expect(failure.attributes.message).to.equal(expected)
    expect(failure.attributes.type).to.equal('r"1')
    expect(failure.text).to.equal(`dir/x&y.yaml:3:1 r"1 ${expected}`)
    expect(attr('\t\n\r')).to.equal('&#9;&#10;&#13;')
    expect(text('a]]>b')).to.equal('a]]&gt;b')
  })

  it('still fails a document whose status says so when no finding says why', () => {
    const result: ValidateResult = {
      results: [
        {
          document: 0, file: 'gone.yaml', findings: [], status: 'error',
        },
        {
          document: 1,
          file: 'gone.yaml',
          findings: [{
            column: 1, line: 9, message: 'w', path: '', rule: 'yaml/empty-document', severity: 'warning',
          }],
          status: 'invalid',
        },
      ],
      summary: {
        documents: 2, errors: 1, files: 1, invalid: 1, valid: 0,
      },
    }
    const cases = childrenNamed(only(parseXml(renderValidateJunit(result)), 'testsuite'), 'testcase')
    expect(only(cases[0], 'error').attributes.message).to.equal('could not be read or parsed')
    expect(only(cases[1], 'failure').attributes.message).to.equal('invalid')
    expect(only(cases[1], 'system-out').text).to.equal('gone.yaml:9:1: warning yaml/empty-document: w')
  })

  it('names test cases by what is known of the object', () => {
    const base = {file: 'f.yaml', findings: [], status: 'valid' as const}
    expect(testcaseName({
      ...base, document: 0, kind: 'Pod', name: 'static-web',
    })).to.equal('Pod static-web (document 0)')
    expect(testcaseName({...base, document: 1, kind: 'Deployment'})).to.equal('Deployment (document 1)')
    expect(testcaseName({...base, document: 3})).to.equal('document 3')
  })

  it('reads back through the strict parser only because it is well-formed', () => {
    expect(() => parseXml('<a x="1<2"/>')).to.throw(/raw </)
    expect(() => parseXml('<a>&</a>')).to.throw(/& that starts no reference/)
    expect(() => parseXml('<a>\u0007</a>')).to.throw(/not allowed/)
    expect(() => parseXml('<a><b></a></b>')).to.throw(/closes/)
  })
})
