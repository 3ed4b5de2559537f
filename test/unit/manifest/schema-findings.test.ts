import {expect} from 'chai'

import {schemaFindings, suggest} from '../../../src/manifest/schema-findings.js'
import {propertiesAt} from '../../../src/manifest/schema-properties.js'

describe('schema findings', () => {
  const schema = {
    definitions: {
      container: {
        additionalProperties: false,
        properties: {image: {type: 'string'}, imagePullPolicy: {type: 'string'}, name: {type: 'string'}},
        type: 'object',
      },
      spec: {
        allOf: [{properties: {containers: {items: {$ref: '#/definitions/container'}, type: 'array'}}}],
      },
    },
    properties: {spec: {$ref: '#/definitions/spec'}},
  }

  it('names the unknown field itself and suggests the one that was meant', () => {
    const doc = {spec: {containers: [{imagePullPolcy: 'Always', name: 'web'}]}}
    const findings = schemaFindings(
      [{instancePath: '/spec/containers/0', keyword: 'additionalProperties', params: {additionalProperty: 'imagePullPolcy'}}],
      doc,
      p => propertiesAt(schema, p),
    )
    expect(findings).to.deep.equal([
      {
        message: 'unknown field "imagePullPolcy" (did you mean "imagePullPolicy"?)',
        path: '/spec/containers/0/imagePullPolcy',
        rule: 'schema/unknown-field',
      },
    ])
  })

  it('says an int-or-string field once, in terms of the union', () => {
    const doc = {port: true}
    const findings = schemaFindings(
      [
        {instancePath: '/port', keyword: 'type', params: {type: 'integer'}},
        {instancePath: '/port', keyword: 'type', params: {type: 'string'}},
        {instancePath: '/port', keyword: 'oneOf', params: {}},
      ],
      doc,
      () => [],
    )
    expect(findings).to.deep.equal([{message: 'port must be an integer or a string, not a boolean (true)', path: '/port', rule: 'schema/type'}])
  })

  it('points a missing required field at the field, and names list items', () => {
    const findings = schemaFindings(
      [
        {instancePath: '/spec/containers/0', keyword: 'required', params: {missingProperty: 'name'}},
        {instancePath: '/spec/containers/0/args/1', keyword: 'type', params: {type: 'string'}},
        {
          instancePath: '/spec/x', keyword: 'minimum', message: 'must be >= 1', params: {},
        },
      ],
      {spec: {containers: [{args: ['a', 3]}], x: 0}},
      () => [],
    )
    expect(findings).to.deep.equal([
      {message: 'missing required field "name"', path: '/spec/containers/0/name', rule: 'schema/required'},
      {message: 'args[1] must be a string, not an integer (3)', path: '/spec/containers/0/args/1', rule: 'schema/type'},
      {message: 'x must be >= 1', path: '/spec/x', rule: 'schema/invalid'},
    ])
  })

  it('suggests only names close enough to be typos', () => {
    expect(suggest('imagePullPolcy', ['imagePullPolicy', 'image'])).to.equal('imagePullPolicy')
    expect(suggest('HostNetwork', ['hostNetwork'])).to.equal('hostNetwork')
    expect(suggest('completelyDifferent', ['hostNetwork', 'containers'])).to.equal(undefined)
    expect(suggest('x', [])).to.equal(undefined)
  })

  it('walks $ref, allOf and items to find the allowed properties', () => {
    expect(propertiesAt(schema, '/spec/containers/3').sort()).to.deep.equal(['image', 'imagePullPolicy', 'name'])
    expect(propertiesAt(schema, '/spec')).to.deep.equal(['containers'])
    expect(propertiesAt(schema, '/nowhere')).to.deep.equal([])
  })
})
