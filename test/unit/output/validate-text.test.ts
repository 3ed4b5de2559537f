import {expect} from 'chai'
// eslint-disable-next-line unicorn/import-style -- a Chalk of our own, at a fixed level
import {Chalk} from 'chalk'

import type {ValidateResult} from '../../../src/manifest/types.js'

import {renderValidateText} from '../../../src/output/validate-text.js'
import {realisticResult, validResult} from './fixture.js'

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[\d+m/g

describe('validate text output', () => {
  it('prints file:line:col: severity rule: message per finding, sorted by file, line and column, then a summary', () => {
    expect(renderValidateText(realisticResult(), {color: false})).to.equal([
      String.raw`<stdin>:6:11: error api/label: label value "<db & 'cache'>\u0007" is not a valid label value`,
      'manifests/broken.yaml:5:9: error yaml/syntax: YAML syntax error: Nested mappings are not allowed in compact mappings',
      "manifests/etcd.yaml:8:3: warning static-pod/overwritten-field: spec.nodeName is set; the kubelet overwrites it with the node's name",
      'manifests/etcd.yaml:14:5: error schema/unknown-field: unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
      '4 files, 4 documents: 1 valid, 2 invalid, 1 unreadable — 3 errors, 1 warning',
      '',
    ].join('\n'))
  })

  it('colours severity, location and counts when colour is on, and only then', () => {
    const plain = renderValidateText(realisticResult(), {color: false})
    const coloured = renderValidateText(realisticResult(), {color: new Chalk({level: 1})})
    expect(plain).not.to.include('\u001B')
    expect(coloured).to.include('\u001B[31m\u001B[1merror') // red bold "error"
    expect(coloured).to.include('\u001B[33m\u001B[1mwarning') // yellow bold "warning"
    expect(coloured).to.include('\u001B[1mmanifests/etcd.yaml:14:5:') // bold location
    expect(coloured).to.include('\u001B[32m1 valid') // green count
    expect(coloured.replaceAll(ANSI, '')).to.equal(plain)
  })

  it('quiet: errors only, and the summary still when something failed', () => {
    const lines = renderValidateText(realisticResult(), {color: false, quiet: true}).trimEnd().split('\n')
    expect(lines).to.have.length(4)
    expect(lines.some(line => line.includes('warning static-pod/overwritten-field'))).to.equal(false)
    expect(lines.at(-1)).to.equal('4 files, 4 documents: 1 valid, 2 invalid, 1 unreadable — 3 errors, 1 warning')
  })

  it('quiet: prints nothing at all when every document is valid, warnings or not', () => {
    expect(renderValidateText(validResult(), {color: false, quiet: true})).to.equal('')
    expect(renderValidateText(validResult(), {color: new Chalk({level: 1}), quiet: true})).to.equal('')
  })

  it('summary leaves out zero counts and says "1 file" / "1 warning"', () => {
    expect(renderValidateText(validResult(), {color: false}).split('\n')).to.deep.equal([
      'b.yaml:7:3: warning static-pod/overwritten-field: metadata.uid is ignored: the kubelet generates it',
      '2 files, 2 documents: 2 valid — 1 warning',
      '',
    ])
    const one: ValidateResult = {
      results: [{
        document: 0, file: 'web.yaml', findings: [], kind: 'Pod', name: 'web', status: 'valid',
      }],
      summary: {
        documents: 1, errors: 0, files: 1, invalid: 0, valid: 1,
      },
    }
    expect(renderValidateText(one, {color: false})).to.equal('1 file, 1 document: 1 valid\n')
    const none: ValidateResult = {
      results: [], summary: {
        documents: 0, errors: 0, files: 0, invalid: 0, valid: 0,
      },
    }
    expect(renderValidateText(none, {color: false})).to.equal('0 files, 0 documents\n')
  })

  it('keeps ties in input order and sorts files by code point, not locale', () => {
    const result: ValidateResult = {
      results: [
        {
          document: 0,
          file: 'b.yaml',
          findings: [
            {
              column: 3, line: 2, message: 'second', path: '/b', rule: 'r/two', severity: 'error',
            },
            {
              column: 3, line: 2, message: 'first', path: '/a', rule: 'r/one', severity: 'error',
            },
          ],
          status: 'invalid',
        },
        {
          document: 0,
          file: 'B.yaml',
          findings: [{
            column: 1, line: 1, message: 'upper', path: '', rule: 'r/x', severity: 'error',
          }],
          status: 'invalid',
        },
      ],
      summary: {
        documents: 2, errors: 0, files: 2, invalid: 2, valid: 0,
      },
    }
    const lines = renderValidateText(result, {color: false}).split('\n')
    expect(lines.slice(0, 3)).to.deep.equal([
      'B.yaml:1:1: error r/x: upper',
      'b.yaml:2:3: error r/two: second',
      'b.yaml:2:3: error r/one: first',
    ])
  })

  it('escapes newlines and terminal control sequences coming from file names and messages', () => {
    const result: ValidateResult = {
      results: [
        {
          document: 0,
          file: 'evil\u001B[2J.yaml',
          findings: [{
            column: 1, line: 1, message: 'line one\nline two\r\u009B', path: '', rule: 'yaml/syntax', severity: 'error',
          }],
          status: 'error',
        },
      ],
      summary: {
        documents: 1, errors: 1, files: 1, invalid: 0, valid: 0,
      },
    }
    const out = renderValidateText(result, {color: false})
    expect(out.split('\n')).to.deep.equal([
      String.raw`evil\u001B[2J.yaml:1:1: error yaml/syntax: line one\u000Aline two\u000D\u009B`,
      '1 file, 1 document: 1 unreadable — 1 error',
      '',
    ])
  })

  it('still reports a document that failed without a finding', () => {
    const result: ValidateResult = {
      results: [{
        document: 0, file: 'gone.yaml', findings: [], status: 'error',
      }],
      summary: {
        documents: 1, errors: 1, files: 1, invalid: 0, valid: 0,
      },
    }
    expect(renderValidateText(result, {color: false, quiet: true})).to.equal('gone.yaml: error: document 0 could not be read or parsed\n1 file, 1 document: 1 unreadable\n')
  })
})
