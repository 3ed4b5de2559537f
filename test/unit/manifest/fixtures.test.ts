import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {type CheckContext, checkFile} from '../../../src/manifest/check.js'
import {RULES} from '../../../src/manifest/rules.js'
import {propertiesAt} from '../../../src/manifest/schema-properties.js'
import {loadBuiltinPodValidator} from '../../../src/manifest/schema.js'
import {
  type Expectation, expectations, fixtureFiles, passes,
} from '../../helpers/fixtures.js'
import {ROOT} from '../../helpers/fixtures.js'

/**
 * Table-driven over test/fixtures/manifests: `valid-*` files must have no error findings, `invalid-*`
 * files must have exactly the error findings their `# expect:` lines name (rule, JSON pointer,
 * line:column), and warnings must be the ones expected, in any fixture.
 */
describe('manifest fixtures', () => {
  let context: CheckContext

  before(async () => {
    const schemaJson = JSON.parse(readFileSync(`${ROOT}/schemas/pod-v1.schema.json`, 'utf8')) as Record<string, unknown>
    context = {schema: {properties: p => propertiesAt(schemaJson, p), validate: await loadBuiltinPodValidator()}}
  })

  const fixtures = fixtureFiles('manifests')

  for (const fixture of fixtures) {
    it(`${fixture.name} has exactly the findings it expects`, () => {
      const results = checkFile(fixture.name, Buffer.from(fixture.text), context).map(d => d.result)
      const actual: Expectation[] = results.flatMap(r =>
        r.findings.map(f => ({
          column: f.column, line: f.line, path: f.path, rule: f.rule, severity: f.severity,
        })))
      const expected = expectations(fixture.text)
      expect(sortKeys(actual), JSON.stringify(results.flatMap(r => r.findings), null, 1)).to.deep.equal(sortKeys(expected))
      const status = results.some(r => r.status !== 'valid') ? 'not valid' : 'valid'
      expect(status).to.equal(fixture.name.startsWith('valid-') ? 'valid' : 'not valid')
    })
  }

  it('every rule is tripped by some fixture and passed by some valid fixture', () => {
    const tripped = new Set(fixtures.flatMap(f => expectations(f.text).map(e => e.rule)))
    const passed = new Set(fixtures.filter(f => f.name.startsWith('valid-')).flatMap(f => passes(f.text)))
    // Rules about files and directories as a whole are covered in validate-op.test.ts.
    const manifestRules = Object.keys(RULES).filter(r => !r.startsWith('dir/') && !r.startsWith('file/') && r !== 'schema/invalid')
    expect(manifestRules.filter(r => !tripped.has(r)), 'rules no fixture trips').to.deep.equal([])
    expect(manifestRules.filter(r => !passed.has(r)), 'rules no valid fixture names in # passes').to.deep.equal([])
  })
})

function sortKeys(list: Expectation[]): string[] {
  return list.map(e => `${e.rule} ${e.path} ${e.line}:${e.column} ${e.severity}`).sort()
}
