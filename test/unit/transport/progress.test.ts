import {expect} from 'chai'

import type {NodeOutcome} from '../../../src/transport/fan-out.js'

import {formatSummary, Progress} from '../../../src/output/progress.js'

class FakeStream {
  columns = 60
  isTTY: boolean
  rows = 20
  text = ''

  constructor(isTTY: boolean) {
    this.isTTY = isTTY
  }

  write(chunk: string): boolean {
    this.text += chunk
    return true
  }
}

function outcome(node: string, status: NodeOutcome['status'], extra: Partial<NodeOutcome> = {}): NodeOutcome {
  return {
    durationMs: 120, node, status, warnings: [], ...extra,
  }
}

describe('progress', () => {
  it('elsewhere than a terminal: one plain line per finished node, warnings, nothing live', () => {
    const stream = new FakeStream(false)
    const progress = new Progress({stream})
    progress.onEvent({node: 'n1', phase: 'connecting', type: 'phase'})
    progress.onEvent({message: 'new host key recorded', node: 'n1', type: 'warning'})
    progress.onEvent({
      done: 1, outcome: outcome('n1', 'ok'), total: 2, type: 'done',
    })
    progress.onEvent({
      done: 2, outcome: outcome('n2', 'unreachable', {error: 'connection refused by 10.0.0.2\nmore'}), total: 2, type: 'done',
    })
    progress.stop()
    expect(stream.text).to.equal(['warning n1: new host key recorded', '[1/2] n1 ok (0.12s)', '[2/2] n2 unreachable (0.12s): connection refused by 10.0.0.2', ''].join('\n'))
  })

  it('on a terminal: a live block of nodes in flight, erased as they finish and at the end', () => {
    const stream = new FakeStream(true)
    const progress = new Progress({color: false, live: true, stream})
    progress.onEvent({node: 'n1', phase: 'connecting', type: 'phase'})
    progress.onEvent({node: 'n2', phase: 'running', type: 'phase'})
    progress.onEvent({
      done: 1, outcome: outcome('n1', 'changed'), total: 2, type: 'done',
    })
    expect(stream.text).to.include('[1/2] n1 changed (0.12s)\n')
    // n2 is still shown live under the finished line
    expect(stream.text.split('[1/2] n1 changed (0.12s)\n')[1]).to.match(/^ {2}… n2 running \d+\.\d\ds\n$/)
    progress.stop()
    expect(stream.text.endsWith('\u001B[1A\u001B[0J')).to.equal(true)
  })

  it('summarises failures with every line of the error and the hints', () => {
    const text = formatSummary([
      outcome('a', 'ok'),
      outcome('b', 'failed', {error: 'line one\nline two', hints: ['do this', 'or\nthat']}),
      outcome('c', 'unreachable', {error: 'refused'}),
    ])
    expect(text).to.equal(['2 of 3 nodes failed:', '  b: failed: line one', '    line two', '    hint: do this', '    hint: or', '          that', '  c: unreachable: refused'].join('\n'))
    expect(formatSummary([outcome('a', 'ok')])).to.equal('')
  })

  it('does not name the node twice when its error already starts with the name', () => {
    const errors = [outcome('node2', 'failed', {error: 'node2: No space left on device'}), outcome('node3', 'failed', {error: 'node30: not this one'})]
    expect(formatSummary(errors)).to.equal(['2 of 2 nodes failed:', '  node2: failed: No space left on device', '  node3: failed: node30: not this one'].join('\n'))
    const stream = new FakeStream(false)
    const progress = new Progress({color: false, live: false, stream})
    progress.onEvent({
      done: 1, outcome: errors[0]!, total: 1, type: 'done',
    })
    expect(stream.text).to.equal('[1/1] node2 failed (0.12s): No space left on device\n')
  })
})
