import {expect} from 'chai'
import * as jsyaml from 'js-yaml'

import {KUBE_YAML_READ_SCHEMA, KUBE_YAML_SCHEMA} from '../../../src/manifest/yaml.js'

describe('KUBE_YAML_SCHEMA (go-yaml v2 scalars)', () => {
  it('reads YAML 1.1 booleans and octal numbers, and keeps timestamps as strings', () => {
    for (const schema of [KUBE_YAML_SCHEMA, KUBE_YAML_READ_SCHEMA]) {
      const value = jsyaml.load('a: yes\nb: off\nc: 0644\nd: 0x1F\ne: 2024-01-02\nf: ~\ng: 1.5\nh: Y\n', {schema})
      expect(value).to.deep.equal({
        a: true, b: false, c: 420, d: 31, e: '2024-01-02', f: null, g: 1.5, h: true,
      })
    }
  })

  it('for reading, resolves every plain scalar as KUBE_YAML_SCHEMA does, keys included (it only settles strings sooner)', () => {
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
        expected = jsyaml.load(text, {schema: KUBE_YAML_SCHEMA})
      } catch {
        continue
      }

      expect(jsyaml.load(text, {schema: KUBE_YAML_READ_SCHEMA}), scalar).to.deep.equal(expected)
      checked.push(scalar)
    }

    expect(checked.length).to.be.greaterThan(scalars.length - 3)
  })
})
