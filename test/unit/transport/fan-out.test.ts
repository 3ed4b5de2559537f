import {expect} from 'chai'

import {ConnectError} from '../../../src/transport/errors.js'
import {
  type Connector, countStatuses, exitCodeFor, fanOut, type FanOutEvent,
} from '../../../src/transport/fan-out.js'

async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => {
    setTimeout(resolve, ms)
  })
}

interface FakeTarget {
  connectMs?: number
  failConnect?: boolean
  name: string
  workMs?: number
}

/** Fake nodes (no SSH here: these tests are about limits and bookkeeping). */
class FakeConnector implements Connector<FakeTarget, {close(): Promise<void>; name: string}> {
  closed: string[] = []
  connecting = 0
  connectorClosed = false
  maxConnecting = 0

  async close(): Promise<void> {
    this.connectorClosed = true
  }

  async connect(target: FakeTarget, context: {onWarning?: (message: string) => void}) {
    this.connecting++
    this.maxConnecting = Math.max(this.maxConnecting, this.connecting)
    try {
      await sleep(target.connectMs ?? 5)
      if (target.failConnect) throw new ConnectError(target.name, `connection refused by ${target.name}`, ['is sshd up?'])
      context.onWarning?.(`hello from ${target.name}`)
      return {
        close: async () => {
          this.closed.push(target.name)
        },
        name: target.name,
      }
    } finally {
      this.connecting--
    }
  }
}

describe('fan-out', () => {
  it('keeps at most `parallel` nodes in flight and at most `handshakes` connecting, without serialising', async () => {
    const targets = Array.from({length: 40}, (_, i) => ({connectMs: 20, name: `n${i}`, workMs: 30}))
    const connector = new FakeConnector()
    let running = 0
    let maxRunning = 0
    const outcomes = await fanOut(targets, connector, async (_node, target) => {
      running++
      maxRunning = Math.max(maxRunning, running)
      await sleep(target.workMs)
      running--
      return {status: 'unchanged' as const}
    }, {handshakes: 4, parallel: 8})
    expect(connector.maxConnecting).to.equal(4)
    expect(maxRunning).to.be.at.most(8).and.at.least(4)
    expect(outcomes.map(outcome => outcome.node)).to.deep.equal(targets.map(target => target.name))
    expect(countStatuses(outcomes).unchanged).to.equal(40)
    expect(connector.closed).to.have.length(40)
    expect(connector.connectorClosed).to.equal(true)
  })

  it('records unreachable and failed nodes with their errors, and the others still succeed', async () => {
    const targets: FakeTarget[] = [{name: 'a'}, {failConnect: true, name: 'down'}, {name: 'broken'}, {name: 'b'}]
    const outcomes = await fanOut(targets, new FakeConnector(), async (_node, target) => {
      if (target.name === 'broken') throw new Error('remote exploded')
      return target.name === 'b' ? {status: 'changed' as const} : 42
    })
    expect(outcomes.map(outcome => [outcome.node, outcome.status, outcome.error, outcome.errorKind])).to.deep.equal([
      ['a', 'ok', undefined, undefined],
      ['down', 'unreachable', 'connection refused by down', 'connect'],
      ['broken', 'failed', 'remote exploded', 'error'],
      ['b', 'changed', undefined, undefined],
    ])
    expect(outcomes[0]!.result).to.equal(42)
    expect(outcomes[1]!.hints).to.deep.equal(['is sshd up?'])
    expect(outcomes[0]!.warnings).to.deep.equal(['hello from a'])
    expect(exitCodeFor(outcomes)).to.equal(1)
    expect(exitCodeFor([outcomes[0]!, outcomes[3]!])).to.equal(0)
  })

  it('stops a node at its time limit (closing it) while the others finish', async () => {
    const connector = new FakeConnector()
    const started = Date.now()
    const outcomes = await fanOut([{name: 'slow', workMs: 5000}, {name: 'fast', workMs: 10}, {connectMs: 5000, name: 'stuck'}], connector, async (_node, target) => {
      await sleep(target.workMs ?? 0)
      return {}
    }, {timeoutMs: 200})
    expect(Date.now() - started).to.be.lessThan(2000)
    expect(outcomes.map(outcome => outcome.status)).to.deep.equal(['failed', 'ok', 'unreachable'])
    expect(outcomes[0]!.error).to.match(/slow did not finish within 200ms; its remote commands were stopped/)
    expect(outcomes[0]!.errorKind).to.equal('timeout')
    expect(outcomes[2]!.error).to.match(/still connecting/)
    expect(connector.closed).to.include('slow')
  })

  it('reports progress: phases, warnings and a done counter', async () => {
    const events: Array<FanOutEvent<unknown>> = []
    await fanOut([{name: 'x'}, {name: 'y'}], new FakeConnector(), async () => ({}), {onEvent: event => events.push(event)})
    const done = events.filter(event => event.type === 'done')
    expect(done.map(event => event.type === 'done' && [event.done, event.total])).to.deep.equal([[1, 2], [2, 2]])
    expect(events.some(event => event.type === 'phase' && event.phase === 'running')).to.equal(true)
    expect(events.some(event => event.type === 'warning' && event.message === 'hello from y')).to.equal(true)
  })
})
