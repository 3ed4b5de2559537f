import {expect} from 'chai'
import * as jsyaml from 'js-yaml'

import {KUBE_YAML_SCHEMA} from '../../../src/manifest/yaml.js'

/** The schema's implicit types without its first one, the shortcut for plain strings. */
function withoutShortcut(): jsyaml.Schema {
  const {implicit} = KUBE_YAML_SCHEMA as unknown as {implicit: jsyaml.Type[]}
  expect(implicit[0]!.tag).to.equal('tag:yaml.org,2002:str')
  return jsyaml.FAILSAFE_SCHEMA.extend({implicit: implicit.slice(1)})
}

describe('KUBE_YAML_SCHEMA (go-yaml v2 scalars)', () => {
  it('reads YAML 1.1 booleans and octal numbers, and keeps timestamps as strings', () => {
    const value = jsyaml.load('a: yes\nb: off\nc: 0644\nd: 0x1F\ne: 2024-01-02\nf: ~\ng: 1.5\nh: Y\n', {schema: KUBE_YAML_SCHEMA})
    expect(value).to.deep.equal({
      a: true, b: false, c: 420, d: 31, e: '2024-01-02', f: null, g: 1.5, h: true,
    })
  })

  it('resolves every plain scalar as it would without the shortcut for strings, keys included', () => {
    const reference = withoutShortcut()
    const scalars = `
      ~ null Null NULL nul nulls y Y yes Yes YES n N no No NO on On ON off Off OFF true True TRUE false False FALSE
      yess offf falsey trueish Nope o f t tier type name kind image namespace Off-peak /healthz _x @x über 日本
      0 0644 0x1F 0b101 -1 +1 1_000 1.5 .5 -.inf .inf .NaN 1e3 << <a 2024-01-02 a:b
    `.trim().split(/\s+/)
    const checked: string[] = []
    for (const scalar of scalars) {
      const text = `key: ${scalar}\n${scalar}: value\nlist: [${scalar}]\n`
      let expected: unknown
      try {
        expected = jsyaml.load(text, {schema: reference})
      } catch {
        continue
      }

      expect(jsyaml.load(text, {schema: KUBE_YAML_SCHEMA}), scalar).to.deep.equal(expected)
      checked.push(scalar)
    }

    expect(checked.length).to.be.greaterThan(scalars.length - 3)
  })
})
