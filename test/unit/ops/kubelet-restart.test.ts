import {expect} from 'chai'

import {parseRestartOutput, restartArgv, sequencedExitCode} from '../../../src/ops/kubelet-restart.js'

describe('ops/kubelet-restart', () => {
  it('parses a restart that came back, and one that did not', () => {
    expect(parseRestartOutput('reloaded\nrestarted\nhealthy 1234\n', 'http://127.0.0.1:10248/healthz')).to.deep.equal({
      daemonReloaded: true, durationMs: 1234, healthy: true, waitedFor: 'http://127.0.0.1:10248/healthz',
    })
    const last = Buffer.from('curl: (7) Failed to connect to 127.0.0.1 port 10248\n').toString('base64')
    expect(parseRestartOutput(`restarted\nunhealthy 4012 ${last}\n`, 'u')).to.deep.equal({
      daemonReloaded: false, durationMs: 4012, healthy: false, lastAnswer: 'curl: (7) Failed to connect to 127.0.0.1 port 10248', waitedFor: 'u',
    })
    expect(parseRestartOutput(`restart-failed 1\nunhealthy 5 ${Buffer.from('no unit').toString('base64')}\n`, 'u')).to.deep.include({healthy: false, restartFailed: true})
    expect(() => parseRestartOutput('restarted\n', 'u')).to.throw(/unexpected output/)
  })

  it('passes the healthz endpoint as arguments; healthzPort 0 waits for is-active', () => {
    const on = restartArgv({
      address: '127.0.0.1', enabled: true, port: 10_248, url: 'http://127.0.0.1:10248/healthz',
    }, {daemonReload: true, waitMs: 30_000})
    expect(on.slice(3)).to.deep.equal(['staticpod-restart', '1', 'http://127.0.0.1:10248/healthz', '127.0.0.1', '10248', '30000'])
    const off = restartArgv({address: '127.0.0.1', enabled: false, port: 0}, {daemonReload: false, waitMs: 1000})
    expect(off.slice(4, 6)).to.deep.equal(['0', ''])
    expect(restartArgv({
      address: '::1', enabled: true, port: 1, url: 'http://[::1]:1/healthz',
    }, {daemonReload: 'auto', waitMs: 1}).slice(4, 5)).to.deep.equal(['auto'])
  })

  it('counts skipped nodes as a failure of the run', () => {
    expect(sequencedExitCode([{status: 'changed'}, {status: 'ok'}])).to.equal(0)
    expect(sequencedExitCode([{status: 'changed'}, {status: 'skipped'}])).to.equal(1)
    expect(sequencedExitCode([{status: 'failed'}])).to.equal(1)
  })
})
