import {expect} from 'chai'
import {readFileSync} from 'node:fs'

import {RULES} from '../../src/manifest/rules.js'
import {ROOT} from '../helpers/fixtures.js'

describe('README', () => {
  it('lists every rule with its severity and summary, and nothing else', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8')
    const table = readme.slice(readme.indexOf('<!-- rules -->'), readme.indexOf('<!-- rulesstop -->'))
    const rows = table.split('\n').filter(l => l.startsWith('| `'))
    const expected = Object.entries(RULES).map(([id, r]) => `| \`${id}\` | ${r.severity} | ${r.summary} |`)
    expect(rows).to.deep.equal(expected)
  })
})
