import {expect} from 'chai'

import {UserError} from '../../../src/errors.js'
import {globToRegExp, type NodeUniverse, selectNodes} from '../../../src/nodes/select.js'

const universe: NodeUniverse = {
  groups: new Map([
    ['all-cp', ['cp']],
    ['cp', ['node1', 'node2']],
    ['workers', ['node3', 'node10']],
  ]),
  known: ['node1', 'node2', 'node3', 'node10', 'bastion'],
}

function usageError(fn: () => unknown): UserError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    expect((error as UserError).exitCode).to.equal(2)
    return error as UserError
  }

  throw new Error('expected a usage error')
}

describe('NODES selection', () => {
  it('expands names, groups (nested), globs and all, deduplicated in order', () => {
    expect(selectNodes('node3,cp', universe).names).to.deep.equal(['node3', 'node1', 'node2'])
    expect(selectNodes('all-cp', universe).names).to.deep.equal(['node1', 'node2'])
    expect(selectNodes('node?', universe).names).to.deep.equal(['node1', 'node2', 'node3'])
    expect(selectNodes('node*,workers', universe).names).to.deep.equal(['node1', 'node2', 'node3', 'node10'])
    expect(selectNodes('node[13]', universe).names).to.deep.equal(['node1', 'node3'])
    expect(selectNodes('all', universe).names).to.deep.equal(universe.known)
    expect(selectNodes(' node1 , node1 ', universe).names).to.deep.equal(['node1'])
  })

  it('passes unknown plain names through for ssh-style resolution', () => {
    expect(selectNodes('node1,10.0.0.7,web.example.com', universe)).to.deep.equal({
      names: ['node1', '10.0.0.7', 'web.example.com'],
      unknown: ['10.0.0.7', 'web.example.com'],
    })
  })

  it('rejects a glob that matches nothing, with a did-you-mean and the known nodes', () => {
    const error = usageError(() => selectNodes('nod*x', universe))
    expect(error.message).to.match(/^no known node matches "nod\*x"/)
    expect(error.hints.join(',')).to.include('Known nodes: node1, node2, node3, node10, bastion; groups: all-cp, cp, workers')
    expect(usageError(() => selectNodes('workerz*', universe)).message).to.include('(did you mean "workers"?)')
  })

  it('rejects empty items and all without known nodes', () => {
    expect(usageError(() => selectNodes('node1,,node2', universe)).message).to.include('empty name')
    expect(usageError(() => selectNodes('all', {groups: new Map(), known: []})).message).to.include('"all" selects no node')
  })

  it('globs are anchored and treat regex characters literally', () => {
    expect(globToRegExp('a.b*').test('a.bc')).to.equal(true)
    expect(globToRegExp('a.b*').test('axbc')).to.equal(false)
    expect(globToRegExp('n?').test('n12')).to.equal(false)
    expect(globToRegExp('[!a]x').test('bx')).to.equal(true)
  })
})
