import addFormats from 'ajv-formats'
import Ajv2020 from 'ajv/dist/2020.js'
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {ValidateResult} from '../../../src/manifest/types.js'

import {artifactLocation, renderValidateSarif, SARIF_SCHEMA_URI} from '../../../src/output/validate-sarif.js'
import {realisticResult, STDIN_MESSAGE} from './fixture.js'

// The SARIF 2.1.0 schema, vendored from npm (see test/fixtures/sarif/README.md). It declares draft
// 2020-12; its anyOf branches require properties declared in the parent, hence strictRequired off.
const here = path.dirname(fileURLToPath(import.meta.url))
const schema = JSON.parse(readFileSync(path.join(here, '../../fixtures/sarif/sarif-schema-2.1.0.json'), 'utf8')) as object
const Ajv = Ajv2020.default
const ajv = new Ajv({allErrors: true, strict: true, strictRequired: false})
addFormats.default(ajv)
const validateSarif = ajv.compile(schema)

interface Region {startColumn?: number; startLine?: number}
interface Location {
  logicalLocations?: Array<{fullyQualifiedName: string}>
  physicalLocation: {artifactLocation: {uri: string; uriBaseId?: string}; region?: Region}
}
interface Result {
  level: string
  locations: Location[]
  message: {text: string}
  properties: Record<string, unknown>
  ruleId: string
  ruleIndex: number
}
interface Log {
  $schema: string
  runs: Array<{
    columnKind: string
    invocations?: Array<{executionSuccessful: boolean; toolExecutionNotifications: Array<{locations: Location[]; message: {text: string}}>}>
    originalUriBaseIds: Record<string, {uri: string}>
    results: Result[]
    tool: {driver: {informationUri?: string; name: string; rules: Array<{id: string; shortDescription: {text: string}}>; version: string}}
  }>
  version: string
}

const CWD = '/home/ops/cluster'

function render(result: ValidateResult, options: Partial<Parameters<typeof renderValidateSarif>[1]> = {}): Log {
  const out = renderValidateSarif(result, {cwd: CWD, version: '0.1.0', ...options})
  const log: unknown = JSON.parse(out)
  const valid = validateSarif(log)
  expect(valid, ajv.errorsText(validateSarif.errors, {separator: '\n'})).to.equal(true)
  return log as Log
}

describe('validate sarif output', () => {
  it('is valid SARIF 2.1.0 for a run with valid, invalid, unparseable and stdin documents', () => {
    const log = render(realisticResult(), {informationUri: 'https://example.org/staticpod'})
    expect(log.$schema).to.equal(SARIF_SCHEMA_URI)
    expect(log.$schema).to.equal('https://json.schemastore.org/sarif-2.1.0.json')
    expect(log.version).to.equal('2.1.0')
    expect(log.runs).to.have.length(1)
    expect(log.runs[0]?.tool.driver).to.include({informationUri: 'https://example.org/staticpod', name: 'staticpod', version: '0.1.0'})
    expect(log.runs[0]?.columnKind).to.equal('utf16CodeUnits')
    expect(log.runs[0]?.originalUriBaseIds).to.deep.equal({'%SRCROOT%': {uri: 'file:///home/ops/cluster/'}})
  })

  it('has a result per finding, sorted like the text output, each with its real region and JSON pointer', () => {
    const results = render(realisticResult()).runs[0]?.results ?? []
    const summary = results.map(r => {
      const location = r.locations[0]
      return [
        r.ruleId,
        r.level,
        location?.physicalLocation.artifactLocation.uri,
        location?.physicalLocation.artifactLocation.uriBaseId,
        location?.physicalLocation.region?.startLine,
        location?.physicalLocation.region?.startColumn,
        location?.logicalLocations?.[0]?.fullyQualifiedName,
      ]
    })
    expect(summary).to.deep.equal([
      ['api/label', 'error', '-', undefined, 6, 11, '/metadata/labels/tier'],
      ['yaml/syntax', 'error', 'manifests/broken.yaml', '%SRCROOT%', 5, 9, undefined],
      ['static-pod/overwritten-field', 'warning', 'manifests/etcd.yaml', '%SRCROOT%', 8, 3, '/spec/nodeName'],
      ['schema/unknown-field', 'error', 'manifests/etcd.yaml', '%SRCROOT%', 14, 5, '/spec/containers/0/imagePullPolcy'],
    ])
    expect(results[0]?.message.text).to.equal(STDIN_MESSAGE)
    expect(results[3]?.properties).to.deep.equal({
      document: 0, kind: 'Pod', name: 'etcd', namespace: 'kube-system',
    })
    // An unparseable document has no path: no logical location rather than an empty one.
    expect(results[1]?.locations[0]).not.to.have.property('logicalLocations')
    // Every result has a startLine (the OASIS schema requires one of startLine/charOffset/byteOffset).
    for (const r of results) expect(r.locations[0]?.physicalLocation.region?.startLine).to.be.at.least(1)
  })

  it('describes every rule used, once, from ruleDescriptions, and points at it with ruleIndex', () => {
    const run = render(realisticResult(), {
      ruleDescriptions: {
        'api/label': 'Label keys are qualified names; values are at most 63 characters.',
        'schema/unknown-field': 'A field the Pod schema does not know.',
        'unused/rule': 'never reported',
      },
    }).runs[0]
    const rules = run?.tool.driver.rules ?? []
    expect(rules).to.deep.equal([
      {id: 'api/label', shortDescription: {text: 'Label keys are qualified names; values are at most 63 characters.'}},
      {id: 'schema/unknown-field', shortDescription: {text: 'A field the Pod schema does not know.'}},
      {id: 'static-pod/overwritten-field', shortDescription: {text: 'static-pod/overwritten-field'}},
      {id: 'yaml/syntax', shortDescription: {text: 'yaml/syntax'}},
    ])
    for (const result of run?.results ?? []) expect(rules[result.ruleIndex]?.id).to.equal(result.ruleId)
  })

  it('makes paths relative to %SRCROOT% with forward slashes, and absolute file: URIs outside it', () => {
    expect(artifactLocation('manifests/etcd.yaml', CWD)).to.deep.equal({uri: 'manifests/etcd.yaml', uriBaseId: '%SRCROOT%'})
    expect(artifactLocation('./manifests/../manifests/etcd.yaml', CWD)).to.deep.equal({uri: 'manifests/etcd.yaml', uriBaseId: '%SRCROOT%'})
    expect(artifactLocation('/home/ops/cluster/web.yaml', CWD)).to.deep.equal({uri: 'web.yaml', uriBaseId: '%SRCROOT%'})
    expect(artifactLocation('/etc/kubernetes/manifests/etcd.yaml', CWD)).to.deep.equal({uri: 'file:///etc/kubernetes/manifests/etcd.yaml'})
    expect(artifactLocation('../other/x.yaml', CWD)).to.deep.equal({uri: 'file:///home/ops/other/x.yaml'})
    expect(artifactLocation('..pods/x.yaml', CWD)).to.deep.equal({uri: '..pods/x.yaml', uriBaseId: '%SRCROOT%'})
    expect(artifactLocation('my pods/a:b#1?.yaml', CWD)).to.deep.equal({uri: 'my%20pods/a%3Ab%231%3F.yaml', uriBaseId: '%SRCROOT%'})
    expect(artifactLocation('-', CWD)).to.deep.equal({uri: '-'})
    expect(artifactLocation('.', CWD)).to.deep.equal({uri: './', uriBaseId: '%SRCROOT%'})
  })

  it('stays valid with awkward paths and messages', () => {
    const result: ValidateResult = {
      results: [
        {
          document: 1,
          file: 'my pods/ümlaut #1.yaml',
          findings: [{
            column: 2, line: 40, message: 'tab\there "quoted" \u0000 nul', path: '/spec/x~1y', rule: 'api/name', severity: 'error',
          }],
          status: 'invalid',
        },
        {
          document: 0,
          file: '/etc/kubernetes/manifests/etcd.yaml',
          findings: [{
            column: 1, line: 1, message: 'The directory holds no manifests.', path: '', rule: 'dir/empty', severity: 'error',
          }],
          status: 'error',
        },
      ],
      summary: {
        documents: 2, errors: 1, files: 2, invalid: 1, valid: 0,
      },
    }
    const results = render(result).runs[0]?.results ?? []
    expect(results.map(r => r.locations[0]?.physicalLocation.artifactLocation.uri)).to.deep.equal([
      'file:///etc/kubernetes/manifests/etcd.yaml',
      'my%20pods/%C3%BCmlaut%20%231.yaml',
    ])
    expect(results[1]?.message.text).to.equal('tab\there "quoted" \u0000 nul')
  })

  it('leaves out what it does not know of a region rather than inventing it', () => {
    const result: ValidateResult = {
      results: [
        {
          document: 0,
          file: 'a.yaml',
          findings: [
            {
              column: 0, line: 3, message: 'no column', path: '/x', rule: 'r/a', severity: 'error',
            },
            {
              column: 0, line: 0, message: 'no position', path: '', rule: 'r/b', severity: 'error',
            },
          ],
          status: 'invalid',
        },
      ],
      summary: {
        documents: 1, errors: 0, files: 1, invalid: 1, valid: 0,
      },
    }
    const results = render(result).runs[0]?.results ?? []
    expect(results.map(r => r.locations[0]?.physicalLocation.region)).to.deep.equal([undefined, {startLine: 3}])
  })

  it('is valid with no results, and lists no rules then', () => {
    const run = render({
      results: [], summary: {
        documents: 0, errors: 0, files: 0, invalid: 0, valid: 0,
      },
    }).runs[0]
    expect(run?.results).to.deep.equal([])
    expect(run?.tool.driver.rules).to.deep.equal([])
    expect(run?.tool.driver).not.to.have.property('informationUri')
    expect(run).not.to.have.property('invocations')
  })

  it('reports a document that failed without a finding as a tool execution notification', () => {
    const run = render({
      results: [{
        document: 0, file: 'gone.yaml', findings: [], status: 'error',
      }],
      summary: {
        documents: 1, errors: 1, files: 1, invalid: 0, valid: 0,
      },
    }).runs[0]
    expect(run?.results).to.deep.equal([])
    const invocation = run?.invocations?.[0]
    expect(invocation?.executionSuccessful).to.equal(false)
    expect(invocation?.toolExecutionNotifications).to.deep.equal([
      {
        level: 'error',
        locations: [{physicalLocation: {artifactLocation: {uri: 'gone.yaml', uriBaseId: '%SRCROOT%'}}}],
        message: {text: 'document 0 could not be read or parsed'},
      },
    ])
  })

  it('the schema check is not vacuous: it rejects what SARIF forbids', () => {
    const log = JSON.parse(renderValidateSarif(realisticResult(), {cwd: CWD, version: '0.1.0'})) as Log
    const region = log.runs[0]?.results[0]?.locations[0]?.physicalLocation.region
    if (region) region.startLine = 0
    expect(validateSarif(log)).to.equal(false)
    expect(validateSarif({...log, version: '2.0.0'})).to.equal(false)
    expect(validateSarif({runs: [{results: [], tool: {driver: {}}}], version: '2.1.0'})).to.equal(false)
  })
})
