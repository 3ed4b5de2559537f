import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {ValidateResult} from '../../../src/manifest/types.js'

import {renderValidateJson} from '../../../src/output/validate-json.js'
import {realisticResult, STDIN_MESSAGE} from './fixture.js'

/* eslint-disable perfectionist/sort-objects -- these objects are written in the contract's key order */

// The example of docs/design.md ("validate --format json"), key order as printed there.
const DESIGN_EXAMPLE = {
  summary: {
    files: 2, documents: 2, valid: 1, invalid: 1, errors: 0,
  },
  results: [
    {
      file: 'web.yaml',
      document: 0,
      kind: 'Pod',
      name: 'static-web',
      status: 'invalid',
      findings: [
        {
          severity: 'error',
          rule: 'schema/unknown-field',
          path: '/spec/containers/0/imagePullPolcy',
          line: 12,
          column: 7,
          message: 'unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
        },
      ],
    },
  ],
}

// The ValidateResult behind that example, as the validate operation builds it (keys in any order).
const DESIGN_INPUT: ValidateResult = {
  results: [
    {
      document: 0,
      file: 'web.yaml',
      findings: [
        {
          column: 7,
          line: 12,
          message: 'unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
          path: '/spec/containers/0/imagePullPolcy',
          rule: 'schema/unknown-field',
          severity: 'error',
        },
      ],
      kind: 'Pod',
      name: 'static-web',
      status: 'invalid',
    },
  ],
  summary: {
    documents: 2, errors: 0, files: 2, invalid: 1, valid: 1,
  },
}

/** Every object's keys, depth first: equal lists mean the same key order everywhere. */
function keyOrder(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => keyOrder(item, `${at}/${index}`))
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, child]) => [`${at}/${key}`, ...keyOrder(child, `${at}/${key}`)])
}

describe('validate json output', () => {
  it("is the design's example, keys in the design's order", () => {
    const out = renderValidateJson(DESIGN_INPUT)
    const parsed: unknown = JSON.parse(out)
    expect(parsed).to.deep.equal(DESIGN_EXAMPLE)
    expect(keyOrder(parsed)).to.deep.equal(keyOrder(DESIGN_EXAMPLE))
    expect(out.endsWith('}\n')).to.equal(true)
  })

  it('matches the example block in docs/design.md itself, when the shared docs are next to the checkout', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
    const design = [path.join(root, '../shared/docs/design.md'), path.join(root, 'docs/design.md')].find(file => existsSync(file))
    expect(design, 'docs/design.md from the shared documents beside the checkout').to.be.a('string')
    if (!design) return
    const text = readFileSync(design, 'utf8')
    const block = /`validate --format json`[^\n]*\n+```json\n([\s\S]*?)\n```/.exec(text)?.[1]
    expect(block, 'design.md has no validate --format json example').to.be.a('string')
    const example: unknown = JSON.parse(block ?? '')
    expect(example).to.deep.equal(DESIGN_EXAMPLE)
    expect(keyOrder(example)).to.deep.equal(keyOrder(DESIGN_EXAMPLE))
  })

  it('writes every document: namespace after name, no kind or name when unknown, findings verbatim', () => {
    const parsed = JSON.parse(renderValidateJson(realisticResult())) as {results: Array<Record<string, unknown>>}
    expect(Object.keys(parsed.results[0] ?? {})).to.deep.equal(['file', 'document', 'kind', 'name', 'namespace', 'status', 'findings'])
    expect(parsed.results[2]).to.deep.equal({
      file: 'manifests/broken.yaml',
      document: 0,
      status: 'error',
      findings: [
        {
          severity: 'error',
          rule: 'yaml/syntax',
          path: '',
          line: 5,
          column: 9,
          message: 'YAML syntax error: Nested mappings are not allowed in compact mappings',
        },
      ],
    })
    expect(parsed.results[3]).to.include({
      file: '-', kind: 'Pod', name: 'static-web', status: 'invalid',
    })
    expect((parsed.results[3]?.findings as Array<{message: string}>)[0]?.message).to.equal(STDIN_MESSAGE)
    expect(parsed.results.map(r => r.file)).to.deep.equal(realisticResult().results.map(r => r.file))
  })

  it('lets nothing but the contract through', () => {
    const input = realisticResult()
    Object.assign(input.results[0] ?? {}, {internal: 'secret'})
    Object.assign(input.summary, {elapsedMs: 12})
    const parsed = JSON.parse(renderValidateJson(input)) as {results: Array<Record<string, unknown>>; summary: Record<string, unknown>}
    expect(parsed.results[0]).not.to.have.property('internal')
    expect(parsed.summary).to.deep.equal({
      files: 4, documents: 4, valid: 1, invalid: 2, errors: 1,
    })
  })
})
