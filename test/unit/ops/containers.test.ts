// Listing a node's containers: what the one-round-trip script prints, read back.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {LIST_SCRIPT, listArgv, parseListOutput} from '../../../src/ops/containers.js'
import {CRICTL_PS_ARGV, DOCKER_PS_ARGV} from '../../../src/runtime/containers.js'
import {FIXTURES} from '../../helpers/fixtures.js'

const fixture = (name: string): string => readFileSync(path.join(FIXTURES, 'runtime', name), 'utf8')

describe('listContainers output', () => {
  it('runs crictl as part of the script and passes docker\'s argv as arguments', () => {
    expect(LIST_SCRIPT).to.include(`out=$(${CRICTL_PS_ARGV.join(' ')})`)
    expect(listArgv()).to.deep.equal(['sh', '-c', LIST_SCRIPT, 'staticpod-containers', ...DOCKER_PS_ARGV])
  })

  it('reads crictl\'s answer', () => {
    const listed = parseListOutput(`staticpod-runtime crictl\n${fixture('crictl-ps-running-restarted-and-crashing.json')}`)
    expect(listed?.runtime).to.equal('crictl')
    expect(listed?.containers).to.have.length(4)
  })

  it('reads docker\'s answer', () => {
    const listed = parseListOutput(`staticpod-runtime docker\n${fixture('docker-ps-running-restarted-and-crashing.txt')}`)
    expect(listed?.runtime).to.equal('docker')
    expect(listed?.containers).to.have.length(4)
  })

  it('says when there is no runtime CLI', () => {
    expect(parseListOutput('staticpod-runtime none\n')).to.equal(undefined)
  })

  it('refuses anything else', () => {
    expect(() => parseListOutput('sudo: a terminal is required\n')).to.throw(/unexpected output/)
  })
})
